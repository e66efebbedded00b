import { expect, test } from "@playwright/test";
import { admin, collectConsoleErrors, hydrated, markWindow, signIn, windowStillMarked } from "./helpers";

// Runs after foundation.spec.ts, which created the admin.

const header =
  "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,ServiceName,BilledCost,EffectiveCost,BillingCurrency,Tags\n";

function file(name: string, rows: string[]) {
  return { name, mimeType: "text/csv", buffer: Buffer.from(header + rows.join("\n") + "\n") };
}

test("a lead imports a bill: a bad file is refused line by line, a newer export supersedes", async ({ page }) => {
  const noConsoleErrors = collectConsoleErrors(page);
  await signIn(page, admin);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Bills" }).click();
  await expect(page).toHaveURL("/bills");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "No bills imported yet" })).toBeVisible();
  await markWindow(page);

  await page
    .getByLabel("Export file")
    .setInputFiles(
      file("october-bad.csv", [
        'acct-9,2026-10-01,2026-11-01,2026-10-02,2026-10-03,Usage,AWS,Amazon EC2,"$1,200.50",1200.50,USD,',
        "acct-9,2026-10-01,2026-11-01,2026-10-02,2026-10-03,Usage,AWS,Amazon EC2,twelve,12,USD,",
      ]),
    );
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByText("1 row could not be read. Nothing was imported.")).toBeVisible();
  const refused = page.locator("table.refused-rows tbody tr");
  await expect(refused).toHaveCount(1);
  await expect(refused.first()).toContainText("3");
  await expect(refused.first()).toContainText("BilledCost");
  await expect(refused.first()).toContainText("twelve");

  await page
    .getByLabel("Export file")
    .setInputFiles(
      file("october.csv", [
        '"acct-9",2026-10-01,2026-11-01,2026-10-02,2026-10-03,Usage,AWS,Amazon EC2,"$1,200.50",1200.50,USD,"{""team"":""search""}"',
        "acct-9,2026-10-01,2026-11-01,2026-10-02,2026-10-03,Tax,AWS,Amazon EC2,72.03,72.03,USD,",
      ]),
    );
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByText("Imported october.csv (FOCUS): 2 rows, 1,272.53 USD.")).toBeVisible();
  const history = page.getByRole("region", { name: "Import history" }).locator("tbody tr");
  await expect(history).toHaveCount(1);
  await expect(history.first()).toContainText("october.csv");
  await expect(history.first()).toContainText("current");

  // The same file again changes nothing.
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByText(/october\.csv was imported before, by ada@example\.com on .* Nothing changed\./)).toBeVisible();

  // A later export of the same account and month supersedes the first.
  await page
    .getByLabel("Export file")
    .setInputFiles(
      file("october-final.csv", [
        "acct-9,2026-10-01,2026-11-01,2026-10-02,2026-10-03,Usage,AWS,Amazon EC2,1210.00,1210.00,USD,",
      ]),
    );
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByText(/It supersedes an earlier import of the same account and period\./)).toBeVisible();
  await expect(history).toHaveCount(2);
  await expect(history.nth(0)).toContainText("october-final.csv");
  await expect(history.nth(0)).toContainText("current");
  await expect(history.nth(1)).toContainText("superseded");
  await windowStillMarked(page);
  noConsoleErrors();
});

test("a lead previews and saves an allocation rule; the explorer regroups without a page load; the export carries the team", async ({ page }) => {
  const noConsoleErrors = collectConsoleErrors(page);
  await signIn(page, admin);
  await page.goto("/bills/rules");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "No rules yet" })).toBeVisible();

  await page.getByLabel("Name").fill("EC2 to fraud");
  await page.getByLabel("Match on").selectOption({ label: "Service name" });
  await page.getByLabel("Value").fill("Amazon EC*");
  await page.getByLabel("Team").selectOption({ label: "Fraud Detection" });
  await page.getByRole("button", { name: "Preview" }).click();
  const preview = page.getByTestId("rule-preview");
  await expect(preview).toContainText("The rule would take 1 current rows.");
  await expect(preview.locator("tbody tr").first()).toContainText("Fraud Detection");
  await expect(preview.locator("tbody tr").first()).toContainText("1,210.00 USD");
  await page.getByRole("button", { name: "Save rule" }).click();
  await expect(page.getByText("Saved EC2 to fraud; it takes 1 rows")).toBeVisible();
  const rules = page.getByRole("region", { name: "Rules, in the order they apply" }).locator("tbody tr");
  await expect(rules).toHaveCount(1);

  // A second rule goes to the end; moved one place earlier it applies first, and deleted the list
  // closes up again (the same buttons every ordered list of rules has).
  await page.getByLabel("Name").fill("Storage to fraud");
  await page.getByLabel("Match on").selectOption({ label: "Service name" });
  await page.getByLabel("Value").fill("Amazon S3*");
  await page.getByLabel("Team").selectOption({ label: "Fraud Detection" });
  await page.getByRole("button", { name: "Save rule" }).click();
  await expect(page.getByText(/Saved Storage to fraud/)).toBeVisible();
  await expect(rules).toHaveCount(2);
  await expect(rules.nth(1)).toContainText("Storage to fraud");
  await expect(page.getByRole("button", { name: "Move Storage to fraud later" })).toBeDisabled();
  await page.getByRole("button", { name: "Move Storage to fraud earlier" }).click();
  await expect(rules.first()).toContainText("Storage to fraud");
  await expect(page.getByRole("button", { name: "Move Storage to fraud earlier" })).toBeDisabled();
  await page.getByRole("button", { name: "Delete Storage to fraud" }).click();
  await expect(rules).toHaveCount(1);
  await expect(rules.first()).toContainText("EC2 to fraud");

  await page.getByRole("navigation", { name: "Bills" }).getByRole("link", { name: "Cost explorer" }).click();
  await expect(page).toHaveURL("/bills/explorer");
  await hydrated(page);
  const table = page.getByTestId("explorer-USD");
  await expect(table.locator("tbody tr").first()).toContainText("Fraud Detection");
  await expect(table.locator("tbody tr").first()).toContainText("1,210.00 USD");
  await markWindow(page);
  await page.getByLabel("Group by").selectOption({ label: "Service" });
  await expect(table.locator("thead th").first()).toHaveText("Service");
  await expect(table.locator("tbody tr").first()).toContainText("Amazon EC2");
  await expect(page.getByRole("img", { name: /by service/ })).toBeVisible();
  await windowStillMarked(page);

  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export the allocated ledger (CSV)" }).click();
  const file = await download;
  const text = await (await file.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString());
  expect(text.split("\n")[0]).toContain("x_Team,x_Model,x_Deployment");
  expect(text).toContain("Fraud Detection");
  noConsoleErrors();
});
