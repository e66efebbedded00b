import { expect, test } from "@playwright/test";
import { hydrated } from "./helpers";

const YEAR = "public, max-age=31536000, immutable";

test("the site's files are named by their content, sent compressed and kept for a year; pages are compressed", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  const head = page.locator("head");
  const hrefs = async (selector: string) =>
    (await head.locator(selector).evaluateAll((links) => links.map((link) => link.getAttribute("href") ?? "")));
  const scripts = await hrefs('link[rel="modulepreload"]');
  const modules = await hrefs('link[rel="preload"][as="fetch"]');
  const styles = await hrefs('link[rel="stylesheet"]');
  // The script, its loader of the pages' parts; the main module and the page's part (the login
  // page's, or the setup page's before the first administrator exists).
  expect(scripts.some((file) => /^\/pkg\/pareto\.[0-9a-f]{16}\.js$/.test(file)), scripts.join(", ")).toBe(true);
  expect(scripts.some((file) => /^\/pkg\/__wasm_split\.[0-9a-f]{22}\.js$/.test(file)), scripts.join(", ")).toBe(true);
  expect(modules.some((file) => /^\/pkg\/pareto\.[0-9a-f]{16}\.wasm$/.test(file)), modules.join(", ")).toBe(true);
  expect(modules.some((file) => /^\/pkg\/split_auth_\d+\.[0-9a-f]{16}\.wasm$/.test(file)), modules.join(", ")).toBe(true);
  expect(styles).toHaveLength(1);
  for (const file of [...scripts, ...modules, ...styles]) {
    expect(file).toMatch(/^\/pkg\/[\w.]+\.[0-9a-f]{16,22}\.(js|wasm|css)$/);
    const brotli = await page.request.get(file, { headers: { "Accept-Encoding": "br, gzip" } });
    expect(brotli.status(), file).toBe(200);
    expect(brotli.headers()["content-encoding"], `${file} as brotli`).toBe("br");
    expect(brotli.headers()["cache-control"], file).toBe(YEAR);
    if (file.endsWith(".wasm")) {
      expect(brotli.headers()["content-type"], file).toBe("application/wasm");
    }
    const gzip = await page.request.get(file, { headers: { "Accept-Encoding": "gzip" } });
    expect(gzip.headers()["content-encoding"], `${file} as gzip`).toBe("gzip");
    expect((await gzip.body()).equals(await brotli.body()), `${file}: the same file either way`).toBe(true);
  }
  // A name without the build's hash may change under the same name: checked on every use.
  const favicon = await page.request.get("/favicon.svg");
  expect(favicon.status()).toBe(200);
  expect(favicon.headers()["cache-control"] ?? "").not.toContain("immutable");

  const html = await page.request.get("/login", { headers: { "Accept-Encoding": "br" } });
  expect(html.headers()["content-encoding"]).toBe("br");
});

test("a page's part of the bundle is fetched when the browser first goes there", async ({ page }) => {
  const fetched: string[] = [];
  page.on("request", (request) => {
    if (request.url().endsWith(".wasm")) fetched.push(new URL(request.url()).pathname);
  });
  await page.goto("/login");
  await hydrated(page);
  expect(fetched.some((file) => /split_fleet_\d+\./.test(file)), fetched.join(", ")).toBe(false);
  // Client-side navigation to a page not loaded yet: its part arrives then.
  await page.evaluate(() => {
    const link = document.createElement("a");
    link.href = "/fleet";
    link.id = "to-fleet";
    link.textContent = "fleet";
    document.body.append(link);
  });
  await page.locator("#to-fleet").click();
  await expect.poll(() => fetched.some((file) => /split_fleet_\d+\./.test(file))).toBe(true);
});
