import { expect, test } from "@playwright/test";
import { admin, collectConsoleErrors, hydrated, signIn, signOut } from "./helpers";

// Runs after foundation.spec.ts, which created the admin.

const lead = { name: "Grace Lindqvist", email: "grace@example.com", password: "second pair of eyes 2026" };

test("a lead approves a pending promotion and the card shows the version in production", async ({ page }) => {
  const noConsoleErrors = collectConsoleErrors(page);
  await signIn(page, admin);

  // A second lead, so that someone other than the requester can review.
  await page.goto("/settings/users");
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill(lead.name);
  await page.getByLabel("Email", { exact: true }).fill(lead.email);
  await page.getByLabel("Initial password").fill(lead.password);
  await page.getByLabel("Role", { exact: true }).selectOption("lead");
  await page.getByRole("button", { name: "Add person" }).click();
  await expect(page.getByText(`${lead.email} can now sign in as lead.`)).toBeVisible();
  // Leads review what their own teams own: Grace joins the team that will own the model.
  await page.goto("/settings/teams");
  await hydrated(page);
  const team = page.getByRole("region", { name: "Team Fraud Detection" });
  await team.getByLabel("Person to add").selectOption({ label: `${lead.name} (${lead.email})` });
  await team.getByRole("button", { name: "Add" }).click();
  await expect(team.getByText(lead.email)).toBeVisible();

  // A model and a version, placed in Tier 3 by a lead: the gate will hold its promotion.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Catalog" }).click();
  await expect(page).toHaveURL("/catalog");
  await hydrated(page);
  await page.getByLabel("Name").fill("churn-xgb");
  await page.getByLabel("Owner team").selectOption({ label: "Fraud Detection" });
  await page.getByRole("button", { name: "Add model" }).click();
  await page.getByRole("link", { name: "churn-xgb" }).click();
  await expect(page.getByRole("heading", { name: /churn-xgb/ })).toBeVisible();
  await hydrated(page);
  await page.getByText("Add a version").click();
  await page.getByLabel("Version", { exact: true }).fill("v1");
  await page.getByLabel("Framework").fill("XGBoost 2.1");
  await page.getByRole("button", { name: "Add version" }).click();
  await expect(page.getByRole("cell", { name: "v1", exact: true })).toBeVisible();
  await page.getByText("Override the tier").click();
  await page.getByRole("combobox", { name: "Tier", exact: true }).selectOption("3");
  await page.getByLabel("Reason").fill("Scores every customer nightly; accuracy first.");
  await page.getByRole("button", { name: "Save tier" }).click();
  await expect(page.getByText("Set to Tier 3 by ada@example.com: Scores every customer nightly; accuracy first.")).toBeVisible();

  // Straight to production is refused; the request waits for review.
  await page.getByText("Request production").click();
  await page.getByLabel("Why now").fill("Beats v0 by 4 points of AUC.");
  await page.getByRole("button", { name: "Ask for production" }).click();
  await expect(page.getByText("Waiting for review: The model is Tier 3 (high accuracy at high cost).")).toBeVisible();
  await expect(page.getByText("waiting for review (0 of 1 approvals)")).toBeVisible();

  // The requester cannot approve their own request.
  await page.goto("/reviews");
  await hydrated(page);
  await expect(page.getByText("You asked for this promotion: another lead reviews it.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Approve churn-xgb v1" })).toHaveCount(0);
  await signOut(page);

  await signIn(page, lead);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Reviews" }).click();
  await expect(page).toHaveURL("/reviews");
  await hydrated(page);
  const request = page.getByRole("article", { name: "Promotion of churn-xgb v1" });
  await expect(request).toContainText("The model is Tier 3");
  await request.getByLabel("Comment").fill("Cost is fine for a nightly batch.");
  await request.getByRole("button", { name: "Approve churn-xgb v1" }).click();
  await expect(page.getByText("Nothing waits for review.")).toBeVisible();
  const decided = page.getByRole("region", { name: "Decided" }).locator("tbody tr");
  await expect(decided.first()).toContainText("approved");
  await expect(decided.first()).toContainText("grace@example.com approved: Cost is fine for a nightly batch.");

  await decided.first().getByRole("link", { name: "churn-xgb v1" }).click();
  await expect(page.getByRole("heading", { name: /Model card: churn-xgb v1/ })).toContainText("production");
  await expect(page.getByText("Promotion approved")).toBeVisible();
  noConsoleErrors();
});
