import { expect, test } from "@playwright/test";
import { admin, hydrated, markWindow, signIn, signOut, viewer, windowStillMarked } from "./helpers";

// One organization is built up step by step, so the tests run in order against one database.
test.describe.configure({ mode: "serial" });

test("the setup page creates the first admin, then disappears", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL("/setup");
  await expect(page.getByRole("heading", { name: "Set up Pareto" })).toBeVisible();
  await hydrated(page);

  await page.getByLabel("Your name").fill(admin.name);
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password", { exact: true }).fill(admin.password);
  await page.getByLabel("Repeat the password").fill("something else entirely");
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page.getByText("The two passwords differ.")).toBeVisible();
  await expect(page).toHaveURL("/setup");

  await page.getByLabel("Repeat the password").fill(admin.password);
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page).toHaveURL("/");
  await expect(page.getByRole("heading", { name: `Welcome, ${admin.name}` })).toBeVisible();

  await signOut(page);
  await page.goto("/setup");
  await expect(page).toHaveURL("/login");
});

test("signing in with a wrong password fails, the right one works", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill("not the password at all");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("That email and password do not match an active account.")).toBeVisible();
  await expect(page).toHaveURL("/login");

  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL("/");
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Settings" }).click();
  await expect(page).toHaveURL("/settings/teams");
  await expect(page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Users" })).toBeVisible();
});

test("an admin creates a team without a page load", async ({ page }) => {
  await signIn(page, admin);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Settings" }).click();
  await expect(page).toHaveURL("/settings/teams");
  await expect(page.getByText("No teams yet")).toBeVisible();
  await markWindow(page);

  await page.getByRole("button", { name: "Create team" }).click();
  await expect(page.getByText("Enter a team name.")).toBeVisible();

  await page.getByLabel("Name").fill("Fraud Detection");
  await page.getByLabel("What the team works on").fill("Card fraud scoring");
  await page.getByRole("button", { name: "Create team" }).click();
  const card = page.getByRole("region", { name: "Team Fraud Detection" });
  await expect(card).toBeVisible();
  await expect(card.getByText("0 members")).toBeVisible();
  await expect(page.getByText("Enter a team name.")).toBeHidden();
  // Hydration: the form was sent by the browser's code and the list refreshed in place.
  await windowStillMarked(page);
});

test("an admin creates a token that is shown once", async ({ page }) => {
  await signIn(page, admin);
  await page.goto("/settings/tokens");
  await hydrated(page);
  await page.getByLabel("Name").fill("gpu-node-17");
  await page.getByLabel("Team").selectOption({ label: "Fraud Detection" });
  await page.getByLabel(/^ingest/).check();
  await page.getByRole("button", { name: "Create token" }).click();

  const secret = page.getByTestId("new-token");
  await expect(secret).toHaveText(/^pareto_[A-Za-z0-9_-]{43}$/);
  const token = (await secret.textContent()) ?? "";
  const row = page.getByRole("row", { name: /gpu-node-17/ });
  await expect(row).toContainText("ingest");
  await expect(row).toContainText("Fraud Detection");
  await expect(row).toContainText("never");

  // The token works against the API, and is never shown again.
  const whoami = await page.request.get("/api/v1/whoami", { headers: { Authorization: `Bearer ${token}` } });
  expect(whoami.status()).toBe(200);
  expect(await whoami.json()).toMatchObject({ name: "gpu-node-17", scopes: ["ingest"], team: "Fraud Detection" });
  await page.reload();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await expect(page.getByText(token)).toHaveCount(0);
});

test("an admin adds a viewer, who does not see admin actions", async ({ page }) => {
  await signIn(page, admin);
  await page.goto("/settings/users");
  await hydrated(page);
  await page.getByLabel("Name").fill(viewer.name);
  await page.getByLabel("Email").fill(viewer.email);
  await page.getByLabel("Initial password").fill(viewer.password);
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByRole("button", { name: "Add person" }).click();
  await expect(page.getByText(`${viewer.email} can now sign in as viewer.`)).toBeVisible();
  await expect(page.getByRole("row", { name: new RegExp(viewer.email) })).toBeVisible();
  await signOut(page);

  await signIn(page, viewer);
  await page.goto("/settings/teams");
  const nav = page.getByRole("navigation", { name: "Settings" });
  await expect(nav.getByRole("link", { name: "Teams" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Users" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "API tokens" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Audit log" })).toHaveCount(0);

  await expect(page.getByRole("region", { name: "Team Fraud Detection" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Create team" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Remove/ })).toHaveCount(0);

  await page.goto("/settings/tokens");
  await expect(page.getByText("Only admins manage API tokens.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Create token" })).toHaveCount(0);
});

test("signing out ends the session", async ({ page }) => {
  await signIn(page, viewer);
  await signOut(page);
  await page.goto("/settings/teams");
  await expect(page).toHaveURL("/login");
});
