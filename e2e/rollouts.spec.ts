// Zero-downtime rollouts with real parts: HAProxy in front of three sample-app nodes, each with the real bundled
// agent, against the control plane under test. An open-model load (requests sent on schedule whatever the server
// does) runs through HAProxy during each rollout; every non-2xx answer and every connection error counts.
import fs from "node:fs/promises";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { getServerState } from "../agent/src/lb/haproxy";
import { startOpenLoad } from "../test/support/open-load";
import { signIn } from "./fixtures";
import { deploymentStatus, deployViaApi, type E2EFleet, nodeVersions, startE2EFleet, uploadSampleRelease, waitForDeployment } from "./support/fleet-fixture";

test.describe.configure({ mode: "serial" });

let f: E2EFleet;

test.beforeAll(async ({ playwright, baseURL }) => {
  test.setTimeout(120_000);
  f = await startE2EFleet(baseURL!, "rollouts");
  const request = await playwright.request.newContext({ baseURL: baseURL! });
  for (const v of ["1.0.0", "2.0.0", "2.1.0", "3.0.0"]) await uploadSampleRelease(request, f, v);
  await uploadSampleRelease(request, f, "2.2.0-broken", { brokenHealth: true });
  // The fleet's first install: every node starts the app for the first time.
  const first = await waitForDeployment(request, f, await deployViaApi(request, f, "production", "1.0.0"));
  expect(first.status, first.failureReason ?? "").toBe("SUCCEEDED");
  expect(await nodeVersions(f)).toEqual({ "web-1": "1.0.0", "web-2": "1.0.0", "web-3": "1.0.0" });
  await request.dispose();
});

test.afterAll(async () => {
  await f?.stop();
});

/** Each production node's state on HAProxy, e.g. "READY UP" (read through its second, observer socket). */
async function balancerStates(): Promise<Record<string, string>> {
  const haproxy = f.fleet.haproxy!;
  const out: Record<string, string> = {};
  for (const name of ["web-1", "web-2", "web-3"]) {
    const s = await getServerState(haproxy.observerAddress, haproxy.backend, name);
    out[name] = `${s.adminState} ${s.operationalState}`;
  }
  return out;
}
const IN_ROTATION = { "web-1": "READY UP", "web-2": "READY UP", "web-3": "READY UP" };

/** Runs `during` under a 200 req/s open-model load through HAProxy, with a margin before and after. */
async function underLoad<T>(during: () => Promise<T>): Promise<{ result: T; load: Awaited<ReturnType<ReturnType<typeof startOpenLoad>["stop"]>> }> {
  const load = startOpenLoad({ url: f.siteUrl, ratePerSecond: 200, paths: ["/version", "/version", "/slow?ms=300"], keepAlive: true });
  await new Promise((r) => setTimeout(r, 500));
  const result = await during();
  await new Promise((r) => setTimeout(r, 1000));
  return { result, load: await load.stop() };
}

test("a rolling deploy under load: zero failed requests, every node ends on the new version, HAProxy never logs a node DOWN", async ({ request }) => {
  const logFrom = f.fleet.haproxy!.log().length;
  const { result: d, load } = await underLoad(async () => waitForDeployment(request, f, await deployViaApi(request, f, "production", "2.0.0")));
  expect(d.status, d.failureReason ?? "").toBe("SUCCEEDED");
  expect(load.failures, `failed requests: ${JSON.stringify(load.failures.slice(0, 5))}`).toEqual([]);
  expect(load.sent).toBeGreaterThan(200);
  expect(Object.keys(load.versionsSeen).sort()).toEqual(["1.0.0", "2.0.0"]);
  expect(await nodeVersions(f)).toEqual({ "web-1": "2.0.0", "web-2": "2.0.0", "web-3": "2.0.0" });
  // One node at a time: staged everywhere first, then activated in turn.
  expect(d.steps.items.map((s) => `${s.action} ${s.server}`)).toEqual(["STAGE web-1", "STAGE web-2", "STAGE web-3", "ACTIVATE web-1", "ACTIVATE web-2", "ACTIVATE web-3"]);
  // Putting a node back must not fire ops' alerts on DOWN events (maintenance is logged as "going DOWN for maintenance").
  expect(f.fleet.haproxy!.log().slice(logFrom).split("\n").filter((l) => /is DOWN/.test(l))).toEqual([]);
  expect(await balancerStates()).toEqual(IN_ROTATION);
});

test("a build whose health check answers 500 halts after the first node and rolls it back at once, with zero failed requests; its page says why", async ({ request, page }) => {
  const { result: d, load } = await underLoad(async () => waitForDeployment(request, f, await deployViaApi(request, f, "production", "2.2.0-broken")));
  expect(d.status).toBe("FAILED");
  expect(d.failureReason).toMatch(
    /^web-1: activating the release failed: Health check http:\/\/127\.0\.0\.1:\d+\/health answered HTTP 500 3 times in a row over \d+\.\d s: broken 2\.2\.0-broken\. Rolled back to the previous release: web-1\.$/,
  );
  expect(d.steps.items.filter((s) => s.action !== "STAGE").map((s) => `${s.action} ${s.server} ${s.status}`)).toEqual(["ACTIVATE web-1 FAILED", "ROLLBACK web-1 SUCCEEDED"]);
  expect(load.failures, `failed requests: ${JSON.stringify(load.failures.slice(0, 5))}`).toEqual([]);
  expect(load.versionsSeen["2.2.0-broken"] ?? 0).toBe(0);
  expect(await nodeVersions(f)).toEqual({ "web-1": "2.0.0", "web-2": "2.0.0", "web-3": "2.0.0" });
  expect(await balancerStates()).toEqual(IN_ROTATION);

  // What ops see: the deployment's page says what failed, where, what it left behind, and that it was rolled back.
  const ops = f.seeded.people.find((p) => p.role === "OPS")!;
  await signIn(page, { email: ops.email, password: ops.password });
  await page.goto(`/deployments/${d.id}`);
  await expect(page.getByTestId("failure-reason")).toContainText("Why it failed: web-1: activating the release failed: Health check");
  await expect(page.getByTestId("failure-reason")).toContainText("answered HTTP 500 3 times in a row");
  await expect(page.getByTestId("failure-reason")).toContainText("Rolled back to the previous release: web-1.");
  const web1 = page.getByTestId("rollout-server-web-1");
  await expect(web1.getByTestId("step-ACTIVATE")).toContainText("failed");
  await expect(web1.getByTestId("step-ACTIVATE")).toContainText("during health-check");
  await expect(web1.getByTestId("step-ROLLBACK")).toContainText("web-1 serves 2.0.0");
  await page.screenshot({ path: test.info().outputPath("failed-health-check.png"), fullPage: true });
});

test("with a bake set in the rollout settings, a build that fails one page request in five is halted after the first node; its page shows the figures that decided it", async ({ request, page }) => {
  await uploadSampleRelease(request, f, "2.2.1-flaky", { failOneIn: 5 });
  const ops = f.seeded.people.find((p) => p.role === "OPS")!;
  await signIn(page, { email: ops.email, password: ops.password });
  const environment = `/apps/${f.seeded.applicationId}/environments/${f.seeded.environments.production}`;
  const setBake = async (seconds: string) => {
    await page.goto(environment);
    const settings = page.getByRole("region", { name: "Rollout settings" });
    await settings.getByLabel("Watch each server for (seconds)").fill(seconds);
    await settings.getByLabel("Most 5xx responses (%)").fill("5");
    await settings.getByRole("button", { name: "Save rollout settings" }).click();
    await expect(settings.getByRole("status")).toHaveText("Rollout settings saved.");
  };
  await setBake("10");
  try {
    const { result: d, load } = await underLoad(async () => waitForDeployment(request, f, await deployViaApi(request, f, "production", "2.2.1-flaky")));
    expect(d.status).toBe("FAILED");
    expect(d.failureReason).toMatch(/^web-1: activating the release failed: Post-deploy analysis: \d+\.\d% of the responses of web-1 were 5xx \(\d+ of \d+ in \d+ s on haproxy app\/web-1\)/);
    expect(d.steps.items.filter((s) => s.action !== "STAGE").map((s) => `${s.action} ${s.server} ${s.status}`)).toEqual(["ACTIVATE web-1 FAILED", "ROLLBACK web-1 SUCCEEDED"]);
    // The visitors who met the flaky build got its 500s, and nothing else failed.
    expect(load.failures.filter((x) => x.status !== 500)).toEqual([]);
    expect(await nodeVersions(f)).toEqual({ "web-1": "2.0.0", "web-2": "2.0.0", "web-3": "2.0.0" });

    await page.goto(`/deployments/${d.id}`);
    await expect(page.getByTestId("failure-reason")).toContainText("Post-deploy analysis:");
    const analysis = page.getByTestId("rollout-server-web-1").getByTestId("step-ACTIVATE").getByTestId("analysis");
    await expect(analysis).toContainText("failed on 5xx responses");
    const figures = analysis.getByTestId("analysis-figures");
    await expect(figures.getByRole("row", { name: /web-1 \(2\.2\.1-flaky\) on haproxy app\/web-1/ })).toContainText(/\d+\.\d%/);
    await expect(figures.getByRole("row", { name: /Servers still on 2\.0\.0 \(2\)/ })).toBeVisible();
    await expect(analysis).toContainText("Limits: 5xx at most 5% above the previous build");
    await page.screenshot({ path: test.info().outputPath("post-deploy-analysis.png"), fullPage: true });
  } finally {
    await setBake("0");
  }
});

test("a revert returns production to the previous release from the staged builds, with zero failed requests", async ({ request }) => {
  expect((await waitForDeployment(request, f, await deployViaApi(request, f, "production", "2.1.0"))).status).toBe("SUCCEEDED");
  const { result: d, load } = await underLoad(async () => {
    const res = await request.post(`/api/v1/applications/${f.seeded.applicationId}/reverts`, {
      headers: { authorization: `Bearer ${f.seeded.apiToken}` },
      data: { environment: "production", reason: "2.1.0 breaks the checkout" },
    });
    expect(res.status(), await res.text()).toBe(201);
    return waitForDeployment(request, f, ((await res.json()) as { deployment: { id: string } }).deployment.id);
  });
  expect(d.status, d.failureReason ?? "").toBe("SUCCEEDED");
  // The previous build was still on every node: nothing was staged, only switched.
  expect(d.steps.items.map((s) => `${s.action} ${s.server}`)).toEqual(["ACTIVATE web-1", "ACTIVATE web-2", "ACTIVATE web-3"]);
  expect(load.failures, `failed requests: ${JSON.stringify(load.failures.slice(0, 5))}`).toEqual([]);
  expect(await nodeVersions(f)).toEqual({ "web-1": "2.0.0", "web-2": "2.0.0", "web-3": "2.0.0" });
});

test("an agent killed mid-activation reports the step interrupted after its restart; no node serves a half-installed build", async ({ request }) => {
  const web2 = f.fleet.agents.find((a) => a.name === "web-2")!;
  const { result: d, load } = await underLoad(async () => {
    const id = await deployViaApi(request, f, "production", "3.0.0");
    // Kill web-2's agent as soon as its activation is under way (the node is then out of rotation).
    for (;;) {
      const s = await deploymentStatus(request, f, id);
      const step = s.steps.items.find((x) => x.server === "web-2" && x.action === "ACTIVATE");
      if (step?.status === "RUNNING") break;
      if (s.finished) throw new Error(`deployment ended before web-2 was activated: ${s.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await web2.kill();
    await new Promise((r) => setTimeout(r, 500));
    web2.start();
    return waitForDeployment(request, f, id);
  });
  expect(d.status).toBe("FAILED");
  const interrupted = d.steps.items.find((s) => s.server === "web-2" && s.action === "ACTIVATE")!;
  expect(interrupted.status).toBe("INTERRUPTED");
  expect(interrupted.message).toMatch(/^The agent restarted during "[a-z-]+" of ACTIVATE 3\.0\.0\./);
  expect(d.steps.items.filter((s) => s.action === "ROLLBACK").map((s) => `${s.server} ${s.status}`)).toEqual(["web-2 SUCCEEDED", "web-1 SUCCEEDED"]);
  expect(load.failures, `failed requests: ${JSON.stringify(load.failures.slice(0, 5))}`).toEqual([]);
  expect(await nodeVersions(f)).toEqual({ "web-1": "2.0.0", "web-2": "2.0.0", "web-3": "2.0.0" });
  // The killed agent's node was out of rotation; the rollback put it back: none is left in MAINT.
  expect(await balancerStates()).toEqual(IN_ROTATION);
  console.log(`[reliability] agent killed mid-activation: ${d.status} in ${((Date.parse(d.finishedAt!) - Date.parse(d.startedAt!)) / 1000).toFixed(1)} s; ${load.sent} requests, ${load.failed} failed`);
  // Every node's `current` is a complete build: the agent writes its marker last, after extraction.
  for (const a of f.fleet.agents.filter((x) => x.name.startsWith("web-"))) {
    const current = await fs.realpath(path.join(a.dir, "current"));
    const marker = JSON.parse(await fs.readFile(path.join(current, ".releasegate.json"), "utf8")) as { version: string };
    expect(marker.version).toBe("2.0.0");
  }
});
