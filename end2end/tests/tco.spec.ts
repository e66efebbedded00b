import { expect, test } from "@playwright/test";
import { readFile } from "node:fs/promises";
import { admin, collectConsoleErrors, hydrated, signIn } from "./helpers";

// Runs after foundation.spec.ts, which created the admin and the Fraud Detection team.

test("a lead enters engineering time and the quarterly CSV adds up to the page's total", async ({ page }) => {
  const noErrors = collectConsoleErrors(page);
  await signIn(page, admin);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Reports" }).click();
  await expect(page).toHaveURL("/reports");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Quarterly TCO" })).toBeVisible();

  const form = page.locator("form").filter({ has: page.getByRole("heading", { name: "Engineering time" }) });
  await form.getByLabel("Team").selectOption({ label: "Fraud Detection" });
  await form.getByLabel("Hours").fill("lots");
  await form.getByLabel("Rate per hour").fill("120");
  await form.getByLabel("Currency").fill("USD");
  await form.getByRole("button", { name: "Save engineering time" }).click();
  await expect(form.getByText("Enter a number such as 2.75.")).toBeVisible();
  await form.getByLabel("Hours").fill("40");
  await form.getByRole("button", { name: "Save engineering time" }).click();
  const team = page.getByRole("row", { name: /^Fraud Detection/ });
  await expect(team).toContainText("4,800.00 USD");

  const total = (await page.getByTestId("tco-total").textContent()) ?? "";
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "CSV" }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^pareto-tco-\d{4}-Q[1-4]\.csv$/);
  const csv = await readFile((await download.path()) ?? "", "utf8");
  const [header, ...rows] = csv.trim().split("\n");
  const column = header.split(",").indexOf("total");
  expect(column).toBeGreaterThan(0);
  // Names here have no commas, so a plain split reads each row.
  const sum = rows.reduce((acc, row) => acc + Number(row.split(",")[column]), 0);
  expect(`${sum.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} USD`).toBe(total.trim());
  noErrors();
});
