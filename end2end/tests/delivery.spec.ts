import { expect, test } from "@playwright/test";
import { hydrated } from "./helpers";

const YEAR = "public, max-age=31536000, immutable";

test("the site's files are named by their content, sent compressed and kept for a year; pages are compressed", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  const head = page.locator("head");
  const files = [
    await head.locator('link[rel="modulepreload"]').getAttribute("href"),
    await head.locator('link[rel="preload"][as="fetch"]').getAttribute("href"),
    await head.locator('link[rel="stylesheet"]').getAttribute("href"),
  ];
  for (const file of files) {
    expect(file).toMatch(/^\/pkg\/pareto\.[0-9a-f]{16}\.(js|wasm|css)$/);
    const brotli = await page.request.get(file ?? "", { headers: { "Accept-Encoding": "br, gzip" } });
    expect(brotli.status(), file ?? "").toBe(200);
    expect(brotli.headers()["content-encoding"], `${file} as brotli`).toBe("br");
    expect(brotli.headers()["cache-control"], file ?? "").toBe(YEAR);
    const gzip = await page.request.get(file ?? "", { headers: { "Accept-Encoding": "gzip" } });
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
