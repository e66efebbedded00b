import { expect, test } from "@playwright/test";
import { admin, collectConsoleErrors, hydrated, signIn } from "./helpers";

// Runs after selection.spec.ts, whose experiment "Chargeback classifier" (a rules engine, a small
// transformer and a hosted model) gives both stages their candidates.

test("a two-stage pipeline is built, and its answer follows a tighter SLA", async ({ page }) => {
  const noConsoleErrors = collectConsoleErrors(page);
  await signIn(page, admin);
  await page.goto("/pipelines");
  await hydrated(page);

  await page.getByLabel("Name", { exact: true }).fill("Dispute triage");
  await page.getByLabel("Team").selectOption({ label: "Fraud Detection" });
  await page.getByLabel("End-to-end SLA").fill("p95 <= 150 ms");
  await page.getByLabel("Requests a month").fill("2000000");
  // A stage line without its fan-out is named by its line, and nothing is added.
  await page
    .getByLabel("Stages")
    .fill("screen | Chargeback classifier | 100% | 1\nclassify | Chargeback classifier | 25%");
  await page.getByRole("button", { name: "Add pipeline" }).click();
  await expect(page.getByText(/line 2: .*write a stage as/)).toBeVisible();
  await expect(page.getByRole("link", { name: "Dispute triage" })).toHaveCount(0);

  await page
    .getByLabel("Stages")
    .fill("screen | Chargeback classifier | 100% | 1\nclassify | Chargeback classifier | 25% | 1");
  await page.getByRole("button", { name: "Add pipeline" }).click();
  await page.getByRole("link", { name: "Dispute triage" }).click();
  await expect(page.getByRole("heading", { name: "Dispute triage" })).toBeVisible();
  await hydrated(page);

  // Within 150 ms and no quality bound, the rules engine serves both stages.
  const best = page.getByRole("region", { name: "Cheapest within the SLA" });
  await expect(best).toContainText("screen: Rules engine → classify: Rules engine");

  // An F1 of 0.93 leaves only the hosted model for the last stage; the screen stays cheap.
  await page.getByText("Change the pipeline").click();
  await page.getByLabel("End-to-end SLA").fill("f1 >= 0.93\np95 <= 150 ms");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(best).toContainText("screen: Rules engine → classify: Hosted model");
  await expect(page.getByRole("heading", { name: "Dispute triage" })).toContainText("Dispute triage");
  await expect(page.getByText(/F1 ≥ 0.93/).first()).toBeVisible();
  noConsoleErrors();
});
