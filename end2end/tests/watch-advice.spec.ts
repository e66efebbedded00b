import { expect, test } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { admin, collectConsoleErrors, hydrated, ingestToken, paretoNow, signIn } from "./helpers";

// Runs after foundation.spec.ts, which created the admin, and after telemetry.spec.ts, which links
// the only unassigned deployment it expects to find (this test leaves one of its own).

test("the Advice page shows what an over-provisioned deployment would save, largest saving first", async ({ page }) => {
  const noConsoleErrors = collectConsoleErrors(page);
  await signIn(page, admin);
  const token = await ingestToken(page, "gpu-node-advice");
  // A day of two H100s held every hour at 20% busy: one GPU at 80% would do.
  const samples = [];
  for (let hoursAgo = 1; hoursAgo <= 24; hoursAgo++) {
    const ts = new Date(paretoNow() - hoursAgo * 3600 * 1000).toISOString();
    for (const gpu of ["GPU-advice-0", "GPU-advice-1"]) {
      samples.push({
        ts, deployment: "e2e-advice-v1", gpu_uuid: gpu, gpu_index: 0,
        gpu_model: "NVIDIA H100 80GB HBM3", interval_s: 3600, utilization_pct: 20,
        memory_used_mib: 1000, power_watts: 200, requests: 1000,
      });
    }
  }
  const reply = await page.request.post("/api/v1/telemetry", {
    headers: { Authorization: `Bearer ${token}` },
    data: { batch_id: randomUUID(), host: "gpu-node-advice", samples },
  });
  expect(reply.status()).toBe(202);

  await page.goto("/");
  await hydrated(page);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Advice" }).click();
  await expect(page).toHaveURL("/advice");
  const card = page.getByTestId("advice").filter({ hasText: "Hold 1 H100 80GB HBM3 GPU instead of up to 2" });
  // 48 GPU-hours at 4.00 USD over 24 hours is 5,760 USD a month; one GPU of two saves half.
  await expect(card).toContainText("2,880.00 USD");
  await expect(card).toContainText("a month less, of 5,760.00 USD");
  await expect(card).toContainText("Risk:");

  const savings = await page.getByTestId("saving").allTextContents();
  const amounts = savings.map((text) => Number(text.replace(/[^0-9.]/g, "")));
  expect(amounts.length).toBeGreaterThan(1);
  expect([...amounts].sort((a, b) => b - a)).toEqual(amounts);
  noConsoleErrors();
});

// Runs after the test above, whose deployment keeps its two GPUs 20% busy.
test("an admin writes a guardrail, the idle deployment breaks it, and a lead's waiver is shown", async ({ page }) => {
  const noConsoleErrors = collectConsoleErrors(page);
  await signIn(page, admin);
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Guardrails" }).click();
  await expect(page).toHaveURL("/guardrails");
  await hydrated(page);

  // A condition Pareto cannot read is refused with its line; nothing is written.
  await page.getByLabel("Name").fill("Real-time GPUs kept busy");
  await page.getByLabel("Conditions").fill("mean_utilization >= 30%\npricing = cheap");
  await page.getByRole("button", { name: "Add guardrail" }).click();
  await expect(page.locator("#guardrail-conditions-error")).toContainText("line 2");
  await expect(page.getByText("No guardrails yet")).toBeVisible();

  await page.getByLabel("Conditions").fill("mean_utilization >= 30%");
  await page.getByLabel("Serving mode").selectOption("real_time");
  await page.getByRole("button", { name: "Add guardrail" }).click();
  const breach = page.getByRole("row").filter({ hasText: "e2e-advice-v1" });
  await expect(breach).toContainText("mean utilization 20% (must be ≥ 30%)");
  await expect(breach).toContainText("open");

  // The lead's waiver: a reason and the date it ends, two weeks on Pareto's clock.
  const until = new Date(paretoNow() + 14 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  await breach.locator("summary", { hasText: "Waive" }).click();
  await breach.getByLabel("Reason").fill("Launch week: traffic not ramped up yet");
  await breach.getByLabel("Until").fill(until);
  await breach.getByRole("button", { name: "Waive Real-time GPUs kept busy for e2e-advice-v1" }).click();
  await expect(breach).toContainText(`waived until ${until} by ${admin.email}: Launch week: traffic not ramped up yet`);
  await expect(page.locator(".stat").filter({ hasText: "breaches waived" })).toContainText("1");
  noConsoleErrors();
});
