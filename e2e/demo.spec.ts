// `npm run demo`, tried as a newcomer would: start it, read what it prints, sign in with the credentials it gives,
// promote the release it says is ready and watch it roll through HAProxy onto three nodes, revert it, then stop it
// with SIGINT to npm's process (as a supervisor, or `kill -INT`, sends it) and find everything stopped. The demo runs as its own process tree (its own embedded PostgreSQL, control
// plane, HAProxy, agents and sample apps), exactly as the README starts it; only its port and data dir are chosen
// here so it can run beside the suite's control plane.
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { clickAndConfirm, expect, submitSignIn, test } from "./fixtures";
import { freePort } from "../test/support/haproxy";
import { exitWithin, reachableTempDir, type RunningCommand, runNpm } from "./support/processes";
import { screenshot } from "./support/releases";

interface Demo extends RunningCommand {
  url: string;
  dataDir: string;
}

let demo: Demo | null = null;

async function startDemo(): Promise<Demo> {
  const dataDir = await reachableTempDir("releasegate-demo-");
  const port = await freePort();
  // `npm run demo`, in a process group of its own, as in a shell.
  const run = runNpm("demo", { DEMO_PORT: String(port), DEMO_DATA_DIR: path.join(dataDir, "demo"), DATABASE_URL: "", LOG_LEVEL: "warn" }, { detached: true });
  return { ...run, url: `http://127.0.0.1:${port}`, dataDir };
}

/** Whether something accepts connections on the address (a URL's host and port). */
function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

async function siteVersions(url: string, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const body = (await (await fetch(`${url}/version`)).json()) as { version: string };
    seen[body.version] = (seen[body.version] ?? 0) + 1;
  }
  return seen;
}

test.afterAll(async () => {
  if (!demo) return;
  // What the demo printed, for whoever reads a failed run.
  await mkdir("test-results", { recursive: true });
  await writeFile("test-results/demo-output.log", demo.output());
  if (demo.child.exitCode === null) {
    try {
      process.kill(-demo.child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await rm(demo.dataDir, { recursive: true, force: true, maxRetries: 3 });
});

test("npm run demo: a newcomer signs in with what it prints, promotes 1.1.0 through HAProxy, reverts it, and Ctrl-C stops everything", async ({ page }) => {
  test.setTimeout(300_000);
  const d = (demo = await startDemo());
  await expect.poll(() => d.output(), { timeout: 240_000, message: "the demo says it is running" }).toContain("Releasegate demo is running.");
  const banner = d.output();
  expect(banner, "nothing failed while it set itself up").not.toMatch(/\[demo\] failed/);

  // What it prints: where the control plane and the site are, and who to sign in as.
  expect(banner).toContain(`Control plane   ${d.url}`);
  const site = /production (http:\/\/127\.0\.0\.1:\d+)\s+\(HAProxy in front of web-1\.\.3\)/.exec(banner)?.[1];
  expect(site, "the site is served through HAProxy").toBeTruthy();
  const password = /every password is (\S+)\)/.exec(banner)![1]!;
  const ops = /^\s+OPS\s+(\S+)\s/m.exec(banner)![1]!;
  for (const role of ["ADMIN", "DEVELOPER", "CUSTOMER", "APPROVER", "OPS", "AUDITOR"]) expect(banner).toMatch(new RegExp(`^\\s+${role}\\s+\\S+@\\S+\\s+${password}$`, "m"));
  expect(await siteVersions(site!, 6)).toEqual({ "1.0.0": 6 });

  // Ops sign in and find 1.1.0 waiting for them: accepted by the customer and approved, as the banner says.
  await page.goto(`${d.url}/signin`);
  await submitSignIn(page, { email: ops, password });
  await expect(page).not.toHaveURL(/\/signin/);
  await expect(page.getByRole("region", { name: "What needs you now" }).getByRole("link", { name: "Promote Webshop 1.1.0 to production" })).toBeVisible();
  await page.getByTestId("applications").getByRole("link", { name: "Webshop" }).click();
  await expect(page).toHaveURL(/\/apps\/[0-9a-f-]{36}$/);
  const applicationPage = page.url();
  const card = page.getByTestId("deploy-Production");
  await expect(card.getByTestId("live-release")).toHaveText("Runs 1.0.0");
  await screenshot(page, "demo-application");
  await card.locator("summary", { hasText: "Deploy to Production" }).click();
  await card.getByLabel("Release", { exact: true }).selectOption({ label: "1.1.0" });
  await card.getByRole("button", { name: "Deploy to Production" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Deploy 1.1.0 to Production");
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-mode", "live");
  await expect(page.getByTestId("deployment-status")).toHaveText("succeeded", { timeout: 60_000 });
  expect(await siteVersions(site!, 6)).toEqual({ "1.1.0": 6 });

  // One click (and a reason) back to 1.0.0, from the builds still on the nodes.
  await page.goto(applicationPage);
  const again = page.getByTestId("deploy-Production");
  await expect(again.getByTestId("live-release")).toHaveText("Runs 1.1.0 · before: 1.0.0");
  await again.locator("summary", { hasText: "Revert to 1.0.0" }).click();
  await again.getByLabel("Why revert? (recorded)").fill("Trying the demo");
  await clickAndConfirm(again.getByRole("button", { name: "Revert to 1.0.0" }), "Revert Production from 1.1.0 to 1.0.0?");
  await expect(page.getByTestId("deployment-status")).toHaveText("succeeded", { timeout: 60_000 });
  expect(await siteVersions(site!, 6)).toEqual({ "1.0.0": 6 });

  // SIGINT to npm's process alone (not the group): npm hands it to the demo, which stops everything and exits 0.
  const exited = exitWithin(d, 60_000);
  d.child.kill("SIGINT");
  expect(await exited).toBe(0);
  expect(d.output()).toContain("[demo] stopped.");
  expect(existsSync(path.join(d.dataDir, "demo", "postgres", "postmaster.pid")), "the demo's PostgreSQL stopped").toBe(false);
  expect(await listening(d.url), "the control plane stopped").toBe(false);
  expect(await listening(site!), "HAProxy stopped").toBe(false);
  // Nothing of it is left running: agents, sample apps, HAProxy, PostgreSQL (a stopped process may linger briefly
  // until PID 1 reaps it, so ask until the group is gone).
  const groupAlive = () => {
    try {
      process.kill(-d.child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  await expect.poll(groupAlive, { timeout: 10_000, message: "the demo's processes are gone" }).toBe(false);
});
