import { expect, test } from "@playwright/test";
import { admin, collectConsoleErrors, hydrated, signIn } from "./helpers";

// Runs after selection.spec.ts, whose experiment "Chargeback classifier" receives the import.
// The server runs with the default address rules, so a tracking server on loopback is refused
// before any request; the import itself is tested against a real MLflow by the Python tests.

test("a lead's MLflow import names a bad mapping line and a refused address, and imports nothing", async ({
  page,
}) => {
  const noConsoleErrors = collectConsoleErrors(page);
  await signIn(page, admin);
  await page.goto("/experiments");
  await page.getByRole("link", { name: "Chargeback classifier" }).click();
  await expect(page.getByRole("heading", { name: "Chargeback classifier" })).toBeVisible();
  await hydrated(page);
  const runs = await page.locator("table tbody tr").count();

  const form = page.getByRole("region", { name: "Import runs from MLflow" });
  await form.getByLabel("Tracking server").fill("http://127.0.0.1:5000");
  await form.getByLabel("MLflow experiment").fill("chargeback-xgb");
  await form.locator("summary", { hasText: "Mapping" }).click();
  const mapping = form.getByLabel("Mapping");
  await mapping.fill(`${await mapping.inputValue()}\nspeed = metrics.rps`);
  await form.getByRole("button", { name: "Import runs" }).click();
  await expect(form.getByText("line 13: `speed` is not a run field")).toBeVisible();

  await mapping.fill("name = tags.mlflow.runName\nmetrics = *");
  await form.getByRole("button", { name: "Import runs" }).click();
  await expect(form.getByText(/127\.0\.0\.1 is a loopback or private address/)).toBeVisible();
  await expect(page.locator("table tbody tr")).toHaveCount(runs);
  noConsoleErrors();
});
