import { expect, type Page } from "@playwright/test";

export const admin = { name: "Ada Okafor", email: "ada@example.com", password: "analytical engine 1843" };
export const viewer = { name: "Tom Becker", email: "tom@example.com", password: "read only reader 2026" };

/**
 * Milliseconds since the epoch on Pareto's clock: real time, unless `make test PARETO_NOW=...`
 * moved it (the server reads the same two variables, so both share one timeline).
 */
export function paretoNow(): number {
  const pinned = process.env.PARETO_NOW ? Date.parse(process.env.PARETO_NOW) : NaN;
  const since = Number(process.env.PARETO_NOW_SINCE ?? NaN) * 1000;
  return Number.isNaN(pinned) || Number.isNaN(since) ? Date.now() : Date.now() + (pinned - since);
}

/** Waits until the page is hydrated, so that a click runs in the browser instead of posting the form. */
export async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
}

/** Creates an ingest token on the tokens page (the signed-in user is an admin) and returns its secret. */
export async function ingestToken(page: Page, name: string): Promise<string> {
  await page.goto("/settings/tokens");
  await hydrated(page);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel(/^ingest/).check();
  await page.getByRole("button", { name: "Create token" }).click();
  const token = (await page.getByTestId("new-token").textContent()) ?? "";
  expect(token).toMatch(/^pareto_/);
  return token;
}

export async function signIn(page: Page, who: { email: string; password: string }) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL("/");
  await hydrated(page);
}

export async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL("/login");
}

/** Leaves a mark on the window that a page load would erase. */
export async function markWindow(page: Page) {
  await page.evaluate(() => ((window as unknown as { paretoMark: string }).paretoMark = "still here"));
}

export async function windowStillMarked(page: Page) {
  const mark = await page.evaluate(() => (window as unknown as { paretoMark?: string }).paretoMark);
  expect(mark, "the interaction must not have loaded a new page").toBe("still here");
}

/** Collects the errors the page logs (a failed hydration among them); call the result at the end. */
export function collectConsoleErrors(page: Page): () => void {
  const errors: string[] = [];
  page.on("console", (message) => {
    // A refused form answers 422 on purpose; the browser reports every such answer.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return () => expect(errors, "the browser logged no errors").toEqual([]);
}
