import { defineConfig, devices } from "@playwright/test";
import { SERVER_NODE_ARGS } from "./scripts/lib/server-node-args";

// E2E tests run in Debian's Chromium (Playwright cannot download its own browsers here) against the control plane
// started through scripts/start.ts, exactly as `npm start` runs it, on the database `npm test` prepared.
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const browser = { ...devices["Desktop Chrome"], viewport: { width: 1280, height: 860 } };

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  // Two spec files run at once, each in a worker of its own; a file's tests run in order in one worker. They can,
  // because specs share nothing: each creates its own tenant and people (e2e/fixtures.ts), takes ports the OS hands
  // out, and asserts only on what it created, also on pages that list every tenant (users, audit, the
  // administrator's home). Keep new specs that way. Two workers overlap one spec's waiting (agents polling, HAProxy
  // checks, the demo and `npm start` booting) with another's work, which pays only where CPU is spare: Chromium
  // rendering is most of a run's CPU, and on a 2-core machine already saturated by other work two workers took as
  // long as one (19.4 and 19.2 min), each test twice as long.
  // E2E_WORKERS=1 runs one file at a time (to tell whether a failure comes from another spec running beside it).
  fullyParallel: false,
  workers: Number(process.env.E2E_WORKERS || 2),
  forbidOnly: !!process.env.CI,
  retries: 0,
  // A budget for a test that hangs, not a speed check. Two specs share the cores: a test that signs in four people and
  // deploys (e2e/audit.spec.ts's refusal) took 45-66 s that way on a 2-core machine other work also used.
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["json"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [
    // The first-run story must meet the empty database the run starts with; it stores the administrator's chosen
    // password (see e2e/fixtures.ts) for every later spec, which therefore depends on it.
    { name: "first-run", testMatch: /first-run\.spec\.ts$/, use: browser },
    { name: "chromium", testIgnore: /first-run\.spec\.ts$/, dependencies: ["first-run"], use: browser },
  ],
  webServer: {
    command: ["node", ...SERVER_NODE_ARGS, "--import", "tsx", "scripts/start.ts", "--no-build"].join(" "),
    url: `${baseURL}/signin`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
    env: {
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? "",
      DATA_DIR: process.env.E2E_DATA_DIR ?? ".data/e2e",
      PORT: String(port),
      HOST: "127.0.0.1",
      NEXTAUTH_URL: baseURL,
      NEXT_TELEMETRY_DISABLED: "1",
      LOG_LEVEL: "warn",
      // The specs' webhook receivers listen on loopback, which webhooks may not reach unless allow-listed.
      WEBHOOK_ALLOWED_NETWORKS: "127.0.0.1/32",
    },
  },
});
