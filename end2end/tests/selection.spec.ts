import { expect, test } from "@playwright/test";
import { admin, collectConsoleErrors, hydrated, markWindow, signIn, windowStillMarked } from "./helpers";

// Runs after foundation.spec.ts, which created the admin and the team Fraud Detection.

test("an experiment gets runs, a recommendation, and a ranking that follows the weights live", async ({ page }) => {
  const noConsoleErrors = collectConsoleErrors(page);
  await signIn(page, admin);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Experiments" }).click();
  await expect(page).toHaveURL("/experiments");
  await hydrated(page);

  await page.getByLabel("Name", { exact: true }).fill("Chargeback classifier");
  await page.getByLabel("Owner team").selectOption({ label: "Fraud Detection" });
  await page.getByLabel("Service level").fill("f1 >= 0.90\np95 <= 100 ms\nmonthly >> 10");
  await page.getByRole("button", { name: "Create experiment" }).click();
  await expect(page.getByText(/line 3: `monthly >> 10` is not a constraint/)).toBeVisible();

  await page.getByLabel("Service level").fill("f1 >= 0.90\np95 <= 100 ms");
  await page.getByRole("button", { name: "Create experiment" }).click();
  await expect(page).toHaveURL(/\/experiments\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: "Chargeback classifier" })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId("recommendation")).toContainText("No runs yet");

  // One run through the form, priced from the catalog's example L4 price.
  await page.getByLabel("Model", { exact: true }).fill("Small transformer");
  await page.getByLabel("Metrics").fill("f1=0.91, auc=0.95");
  await page.getByLabel("p95 (ms)", { exact: true }).fill("24");
  await page.getByLabel("Throughput (requests/s)").fill("400");
  await page.getByLabel("GPU model").fill("NVIDIA L4");
  await page.getByRole("button", { name: "Add run" }).click();
  await expect(page.getByTestId("recommendation")).toContainText(
    "Small transformer meets F1 ≥ 0.9 and p95 latency ≤ 100 ms at 584.00 USD/month",
  );

  // Two more by CSV: a bad line refuses the file, a good file stores both.
  await page.getByLabel("or paste the CSV").fill("name,f1,latency_p95_ms,price_per_request\nHosted,0.95,high,0.002\n");
  await page.getByRole("button", { name: "Upload runs" }).click();
  await expect(page.getByText("line 2, column latency_p95_ms: `high` is not a number.")).toBeVisible();
  await page
    .getByLabel("or paste the CSV")
    .fill(
      "name,f1,latency_p95_ms,throughput_rps,cpu_instance,hourly_price,price_per_request\n" +
        "Hosted model,0.95,80,,,,0.0002\n" +
        "Rules engine,0.80,2,5000,c6i.large,0.09,\n",
    );
  await page.getByRole("button", { name: "Upload runs" }).click();
  await expect(page.getByText("Stored 2 runs.")).toBeVisible();
  await expect(page.getByTestId("recommendation")).toContainText("Hosted model meets F1 ≥ 0.9");

  // The decision matrix re-ranks in the browser as the weights move.
  await markWindow(page);
  const matrix = page.getByTestId("matrix");
  const firstRun = matrix.locator("tbody tr").first().locator("th");
  await page.getByLabel("Quality weight").fill("0");
  await page.getByLabel("Latency weight").fill("0");
  await page.getByLabel("Cost weight").fill("100");
  await expect(firstRun).toHaveText("Rules engine");
  await page.getByLabel("Cost weight").fill("0");
  await page.getByLabel("Quality weight").fill("100");
  await expect(firstRun).toHaveText("Hosted model");
  await windowStillMarked(page);

  // The cascade simulator answers as the share moves, and a scenario can be saved.
  await page.getByLabel("Cheap model", { exact: true }).selectOption({ label: "Rules engine" });
  await page.getByLabel("Expensive model", { exact: true }).selectOption({ label: "Hosted model" });
  await page.getByLabel("Share the cheap model keeps").fill("100");
  const outcome = page.getByTestId("cascade-outcome");
  await expect(outcome).toContainText("Blended p95");
  await page.getByLabel("Scenario name").fill("Rules first");
  await page.getByRole("button", { name: "Save scenario" }).click();
  await expect(page.getByTestId("scenarios")).toContainText("Rules first");
  await windowStillMarked(page);
  noConsoleErrors();
});
