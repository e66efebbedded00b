import { expect, test } from "@playwright/test";
import { admin, collectConsoleErrors, hydrated, signIn } from "./helpers";

// Runs after foundation.spec.ts, which created the admin.

test("pages carry a Content-Security-Policy with a nonce, hydrate under it, and break none of its rules", async ({ page }) => {
  // Recorded from the first script of every document, before the page's own.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  const noErrors = collectConsoleErrors(page);
  const answer = await page.goto("/login");
  const policy = answer?.headers()["content-security-policy"] ?? "";
  expect(policy).toContain("frame-ancestors 'self'");
  const nonce = /'nonce-([^']+)'/.exec(policy)?.[1] ?? "";
  expect(nonce.length).toBeGreaterThan(10);
  // Each response has its own nonce.
  const again = await page.request.get("/login");
  expect(again.headers()["content-security-policy"]).not.toContain(nonce);

  await signIn(page, admin);
  // Pages with forms, streamed figures, and charts embedded as documents.
  for (const path of ["/", "/drift", "/catalog", "/bills", "/experiments", "/settings/tokens"]) {
    await page.goto(path);
    await hydrated(page);
    const violations = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
    expect(violations, `${path} breaks no rule of its policy`).toEqual([]);
  }
  noErrors();
});
