const { chromium } = require("playwright");
(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  for (const [name, width, scheme] of [["desk-light", 1280, "light"], ["phone-dark", 375, "dark"]]) {
    const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme: scheme });
    await page.goto("http://127.0.0.1:3311/login");
    await page.getByLabel("Email").fill("grace@example.com");
    await page.getByLabel("Password").fill("demo password 2026");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL("http://127.0.0.1:3311/");
    await page.goto("http://127.0.0.1:3311/deployments/fraud-lgbm-v4-canary");
    await page.getByText("What holds it back").waitFor();
    await page.waitForTimeout(1500);
    const card = page.locator("#diagnosis-heading").locator("..").locator("..");
    await card.scrollIntoViewIfNeeded();
    await page.evaluate(() => document.querySelector("#diagnosis-heading").scrollIntoView()); await page.screenshot({ path: `/tmp/dep-${name}.png` });
    await page.close();
  }
  await browser.close();
})();
