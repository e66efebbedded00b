import { expect, test } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { admin, collectConsoleErrors, hydrated, ingestToken, markWindow, paretoNow, signIn, windowStillMarked } from "./helpers";

// Runs after foundation.spec.ts, which created the admin, and after telemetry.spec.ts, which links
// the only unassigned deployment it expects (this test leaves one of its own).

const hoursAgo = (hours: number) => new Date(paretoNow() - hours * 3600 * 1000).toISOString();

test("drift posted by a monitoring job shows against cost, and the range changes in place", async ({ page }) => {
  const noErrors = collectConsoleErrors(page);
  await signIn(page, admin);
  const token = await ingestToken(page, "drift-monitor-e2e");
  const headers = { Authorization: `Bearer ${token}` };

  // An hour of GPU time three days ago, and another twenty days ago: only one is in the last 7 days.
  const sample = (ts: string, requests: number) => ({
    ts, deployment: "e2e-drift-v1", gpu_uuid: "GPU-drift-0", gpu_index: 0,
    gpu_model: "NVIDIA H100 80GB HBM3", interval_s: 3600, utilization_pct: 60,
    memory_used_mib: 1000, power_watts: 400, requests,
  });
  const telemetry = await page.request.post("/api/v1/telemetry", {
    headers,
    data: { batch_id: randomUUID(), host: "gpu-drift", samples: [sample(hoursAgo(72), 4000), sample(hoursAgo(480), 8000)] },
  });
  expect(telemetry.status()).toBe(202);
  const drift = await page.request.post("/api/v1/drift", {
    headers,
    data: {
      batch_id: randomUUID(),
      measurements: [
        { ts: hoursAgo(2), deployment: "e2e-drift-v1", kind: "data", feature: "basket_size", metric: "psi", value: 0.42 },
        { ts: hoursAgo(2), deployment: "e2e-drift-v1", kind: "data", feature: "country",
          histogram: { reference: [50, 30, 20], current: [45, 33, 22] } },
      ],
    },
  });
  expect(drift.status()).toBe(202);
  expect(await drift.json()).toMatchObject({ accepted: 4, duplicate: false });

  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Drift" }).click();
  await expect(page).toHaveURL("/drift");
  await hydrated(page);
  const row = page.getByRole("row", { name: /e2e-drift-v1/ });
  await expect(row).toContainText("Drifting");
  await expect(row).toContainText("PSI of basket_size is 0.420, past the alert level 0.250");
  const chart = page.getByRole("figure").filter({ has: page.getByRole("heading", { name: "Cost against drift" }) });
  await expect(chart).toContainText("last 30 days");
  // 12,000 requests on two H100-hours at 4.00 USD: 0.67 USD per 1,000 over 30 days.
  await expect(row).toContainText("0.67 USD");

  await markWindow(page);
  await page.getByRole("group", { name: "Range" }).getByRole("button", { name: "7 days" }).click();
  await expect(chart).toContainText("last 7 days");
  // Only the recent hour: 4,000 requests on one H100-hour.
  await expect(row).toContainText("1.00 USD");
  await expect(page.getByRole("group", { name: "Range" }).getByRole("button", { name: "7 days" })).toHaveAttribute("aria-pressed", "true");
  await windowStillMarked(page);

  await row.getByRole("link", { name: "e2e-drift-v1" }).click();
  await expect(page.getByRole("heading", { name: "e2e-drift-v1" })).toBeVisible();
  await hydrated(page);
  await expect(page.getByRole("img", { name: /PSI of basket_size .* cost per 1,000 requests/ })).toBeVisible();
  await page.getByRole("listitem").filter({ hasText: "Jensen–Shannon of country" }).getByRole("button", { name: "Chart it" }).click();
  await expect(page.getByRole("img", { name: /Jensen–Shannon of country/ })).toBeVisible();

  // The overview lists it among the drifting deployments with its monthly cost at the last two
  // weeks' rate: 4.00 USD in 14 days is 8.57 USD a month.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Overview" }).click();
  await expect(page).toHaveURL("/");
  const drifting = page.getByRole("region", { name: "Drifting deployments" }).getByRole("listitem").filter({ hasText: "e2e-drift-v1" });
  await expect(drifting).toContainText("Drifting");
  await expect(drifting).toContainText("8.57 USD a month");
  await expect(page.getByRole("link", { name: /deployments? drifting/ })).toContainText("8.57 USD a month");
  noErrors();
});
