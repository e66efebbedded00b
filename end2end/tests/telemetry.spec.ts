import { expect, test } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { admin, collectConsoleErrors, hydrated, ingestToken, markWindow, paretoNow, signIn, windowStillMarked } from "./helpers";

// Runs after foundation.spec.ts, which created the admin.

test("telemetry posted by an agent shows on the fleet page, priced and linkable", async ({ page }) => {
  await signIn(page, admin);
  const token = await ingestToken(page, "gpu-node-e2e");

  const ts = new Date(paretoNow() - 10 * 60 * 1000).toISOString();
  const reply = await page.request.post("/api/v1/telemetry", {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      batch_id: randomUUID(),
      host: "gpu-node-e2e",
      samples: [
        {
          ts, deployment: "e2e-ranker-v1", gpu_uuid: "GPU-e2e-0", gpu_index: 0,
          gpu_model: "NVIDIA H100 80GB HBM3", interval_s: 3600, utilization_pct: 50,
          memory_used_mib: 1000, power_watts: 400, requests: 4000,
          latency_ms: { p50: 10, p95: 30, p99: 50 },
        },
      ],
    },
  });
  expect(reply.status()).toBe(202);
  expect(await reply.json()).toMatchObject({ accepted: 1, new_deployments: ["e2e-ranker-v1"] });

  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Fleet" }).click();
  await expect(page).toHaveURL("/fleet");
  const row = page.getByRole("row", { name: /^e2e-ranker-v1/ });
  // One H100-hour at the 4.00 USD example price, half of it used, 4,000 requests.
  await expect(row).toContainText("4.00 USD");
  await expect(row).toContainText("2.00 USD");
  await expect(row).toContainText("1.00 USD");
  await expect(row).toContainText("unassigned");

  await markWindow(page);
  await page.getByRole("navigation", { name: "Period" }).getByRole("link", { name: "30 days" }).click();
  await expect(page).toHaveURL("/fleet?days=30");
  await expect(page.getByRole("heading", { name: "Deployments, last 30 days" })).toBeVisible();
  await windowStillMarked(page);

  await page.getByLabel("Model of e2e-ranker-v1").fill("e2e-ranker");
  await page.getByLabel("Version of e2e-ranker-v1").fill("v1");
  await page.getByRole("button", { name: "Link" }).click();
  await expect(page.getByRole("heading", { name: "Unassigned deployments" })).toHaveCount(0);
  await expect(page.getByRole("row", { name: /^e2e-ranker-v1/ })).toContainText("e2e-ranker v1");
  await windowStillMarked(page);
});

test("a run links to the registry version a deployment was linked to", async ({ page }) => {
  // After the test above and selection.spec.ts: the version e2e-ranker v1 and the experiment exist.
  const noConsoleErrors = collectConsoleErrors(page);
  await signIn(page, admin);
  await page.goto("/fleet");
  await hydrated(page);
  await page.goto("/experiments");
  await hydrated(page);
  await page.getByRole("link", { name: "Chargeback classifier" }).click();
  await hydrated(page);
  await page.getByLabel("Model", { exact: true }).fill("Ranker from the registry");
  await page.getByLabel("Registry version").selectOption({ label: "e2e-ranker v1" });
  await page.getByLabel("Metrics").fill("f1=0.85");
  await page.getByLabel("Price per request").fill("0.0001");
  await page.getByLabel("Pricing").selectOption("api_request");
  await page.getByRole("button", { name: "Add run" }).click();
  await expect(page.getByRole("row", { name: /^Compare Ranker from the registry/ })).toContainText("e2e-ranker v1");
  noConsoleErrors();
});
