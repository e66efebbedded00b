import { defineConfig, devices } from "@playwright/test";

// The debug build from `cargo xtask site` (make site), on its own port and its own database
// (make e2e recreates pareto_e2e before every run).
const port = Number(process.env.PARETO_E2E_PORT ?? 3199);
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/pareto_e2e";

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        // Debian's Chromium: Playwright's own browser download cannot run here.
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
          ],
        },
      },
    },
  ],
  webServer: {
    // PARETO_BIN=target/release/pareto runs the same tests against the release build.
    command: `${process.env.PARETO_BIN ?? "target/debug/pareto"} serve`,
    cwd: "..",
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      DATABASE_URL: databaseUrl,
      PARETO_LISTEN: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: "target/site",
      PARETO_LOG: "warn",
    },
  },
});
