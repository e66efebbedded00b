import { expect, test } from "@playwright/test";
import { admin, collectConsoleErrors, markWindow, signIn, windowStillMarked } from "./helpers";

// Runs after foundation.spec.ts, which created the admin.

test("the frame stays across navigations between signed-in pages", async ({ page }) => {
  const noConsoleErrors = collectConsoleErrors(page);
  await signIn(page, admin);
  await markWindow(page);
  // A mark on the header's element: a frame drawn again for the next page would not carry it.
  await page.evaluate(() => document.querySelector("header.topbar")?.setAttribute("data-kept", "yes"));
  const sections = page.getByRole("navigation", { name: "Sections" });
  await sections.getByRole("link", { name: "Catalog" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Model catalog" })).toBeVisible();
  await sections.getByRole("link", { name: "Fleet" }).click();
  await expect(page).toHaveURL("/fleet");
  await expect(page.locator("header.topbar")).toHaveAttribute("data-kept", "yes");
  await expect(sections.getByRole("link", { name: "Fleet" })).toHaveAttribute("aria-current", "page");
  await windowStillMarked(page);
  noConsoleErrors();
});
