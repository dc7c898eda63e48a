// Deployments from the browser. Ops shape how an environment rolls out and put a server behind a redundant pair of HAProxy balancers; a
// deployment started on the application page is followed live on its own page while agents (played by the test
// over the real agent API) report, without reloading (and, should the event stream be blocked, by refreshing
// itself); a failed activation says why; ops revert in one click; a developer has no revert button, and replaying
// the ops' revert request with a developer's session is refused.
import type { Page } from "@playwright/test";
import { addBalancer, addServer, clickAndConfirm, putBehindBalancer, completeRollout, createRelease, expect, keepOnline, markDocument, signedInMember, SimulatedAgent, test } from "./fixtures";

/** On the application page: deploys `version` to `environment` and lands on the deployment's live page. */
async function deployFromApplicationPage(page: Page, applicationId: string, environment: string, version: string, reason = ""): Promise<void> {
  await page.goto(`/apps/${applicationId}`);
  const card = page.getByTestId(`deploy-${environment}`);
  await card.locator("summary", { hasText: `Deploy to ${environment}` }).click();
  await card.getByLabel("Release").selectOption({ label: version });
  await card.getByLabel("Reason (optional)").fill(reason);
  await card.getByRole("button", { name: `Deploy to ${environment}` }).click();
  await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Deploy ${version} to ${environment}`);
}

test("ops set an environment's rollout settings, its balancers and which servers are behind them", async ({ adminPage: admin, tenant, newBrowserPage }) => {
  const { page } = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Otto", last: "Ops", role: "Ops" });
  await addServer(page, tenant.applicationId, "Production", "web-1");
  await page.getByTestId("environments").getByRole("link", { name: "3. Production" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${tenant.application} / Production`);

  const settings = page.getByRole("region", { name: "Rollout settings" });
  await settings.getByLabel("Strategy").selectOption("ROLLING");
  await settings.getByLabel("Servers per batch").fill("2");
  await settings.getByLabel("Health check URL").fill("http://${NODE_HOST}:8080/health");
  // A build answering 5xx fails the check at once after 3 in a row by default; this app warms up slowly.
  await expect(settings.getByLabel("Fail after this many 5xx answers in a row")).toHaveValue("3");
  await settings.getByLabel("Fail after this many 5xx answers in a row").fill("5");
  await settings.getByLabel("Start", { exact: true }).fill("systemctl start shop");
  await settings.getByLabel("Stop", { exact: true }).fill("systemctl stop shop");
  await settings.getByLabel("Timeout per hook (seconds)").fill("300");
  await settings.getByLabel("Releases kept on each server").fill("3");
  await settings.getByLabel("Persistent paths").fill("storage/uploads\n../secrets");
  await settings.getByRole("button", { name: "Save rollout settings" }).click();
  await expect(settings.getByRole("alert")).toHaveText('Check the form: ../secrets: ".." is not allowed; the path must stay inside the application directory.');
  await expect(settings.getByLabel("Start", { exact: true })).toHaveValue("systemctl start shop");

  await settings.getByLabel("Persistent paths").fill("storage/uploads\nvar/cache");
  await settings.getByRole("button", { name: "Save rollout settings" }).click();
  await expect(settings.getByRole("status")).toHaveText("Rollout settings saved.");

  // A redundant pair in front of Production: two balancers, web-1 behind both.
  await addServer(page, tenant.applicationId, "Production", "web-2");
  await page.getByTestId("environments").getByRole("link", { name: "3. Production" }).click();
  await addBalancer(page, "haproxy-a", "/run/haproxy/a.sock");
  await addBalancer(page, "haproxy-b", "10.0.0.6:9999");
  const refused = await putBehindBalancer(page, "haproxy-a", "web-1", "be web", "web1");
  await expect(refused.getByRole("alert")).toHaveText(
    "Check the form: Use the backend name exactly as in haproxy.cfg: letters, digits, '-', '_', '.' or ':', no spaces.",
  );
  await expect(refused.getByLabel("Server name in HAProxy")).toHaveValue("web1");
  await refused.getByLabel("Backend").fill("be_web");
  await refused.getByRole("button", { name: "Put behind haproxy-a" }).click();
  await expect(refused.getByRole("status")).toHaveText("web-1 is behind haproxy-a.");
  await expect((await putBehindBalancer(page, "haproxy-b", "web-1", "be_web", "web1")).getByRole("status")).toHaveText("web-1 is behind haproxy-b.");
  // The same membership twice is explained, not duplicated.
  await expect((await putBehindBalancer(page, "haproxy-b", "web-1", "be_web", "web1")).getByRole("alert")).toHaveText("web-1 is already behind haproxy-b in backend be_web.");
  // A balancer's name must be unique in the environment.
  const card = page.getByRole("region", { name: "Load balancers" });
  const add = card.locator("details").filter({ has: page.locator("summary", { hasText: "Add a load balancer…" }) });
  await add.getByLabel("Name").fill("haproxy-a");
  await add.getByLabel("Runtime API address").fill("/run/haproxy/c.sock");
  await add.getByRole("button", { name: "Add balancer" }).click();
  await expect(add.getByRole("alert")).toHaveText("Production already has a balancer named haproxy-a.");

  // Both stick.
  await page.reload();
  await expect(page.getByTestId("server-web-1")).toContainText("behind haproxy-a (be_web/web1), haproxy-b (be_web/web1)");
  await expect(page.getByTestId("server-web-2")).toContainText("no load balancer");
  // Each balancer's own view: nothing read yet, since web-1 has no agent.
  await expect(page.getByTestId("member-haproxy-a-web-1")).toContainText("waiting for web-1's agent");
  await expect(settings.getByLabel("Strategy")).toHaveValue("ROLLING");
  await expect(settings.getByLabel("Servers per batch")).toHaveValue("2");
  await expect(settings.getByLabel("Health check URL")).toHaveValue("http://${NODE_HOST}:8080/health");
  await expect(settings.getByLabel("Stop", { exact: true })).toHaveValue("systemctl stop shop");
  await expect(settings.getByLabel("Timeout per hook (seconds)")).toHaveValue("300");
  await expect(settings.getByLabel("Fail after this many 5xx answers in a row")).toHaveValue("5");
  await expect(settings.getByLabel("Persistent paths")).toHaveValue("storage/uploads\nvar/cache");

  // Taking web-1 off haproxy-b is confirmed, then shows at once.
  await clickAndConfirm(page.getByTestId("member-haproxy-b-web-1").getByRole("button", { name: "Take off" }), "Take web-1 off haproxy-b? Rollouts will no longer drain it there.");
  await expect(page.getByTestId("member-haproxy-b-web-1")).toHaveCount(0);
  await expect(page.getByTestId("server-web-1")).toContainText("behind haproxy-a (be_web/web1)");
  await expect(page.getByTestId("server-web-1")).not.toContainText("haproxy-b");
});

test("a deployment started in the UI is followed live, a failure says why, ops revert, and a developer cannot", async ({
  adminPage: admin,
  tenant,
  newBrowserPage,
  request,
}) => {
  test.setTimeout(240_000);
  const ops = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Olga", last: "Ops", role: "Ops" });
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dirk", last: "Developer", role: "Developer" });
  const agents: SimulatedAgent[] = [];
  for (const name of ["web-1", "web-2"]) agents.push(await SimulatedAgent.enroll(request, await addServer(ops.page, tenant.applicationId, "QA", name), name));
  const [web1, web2] = agents as [SimulatedAgent, SimulatedAgent];
  const stopHeartbeats = keepOnline(agents);
  try {
    for (const version of ["1.0.0", "1.1.0", "2.0.0"]) await createRelease(tenant.applicationId, dev.person.email, version);
    const page = ops.page;
    const summary = page.getByTestId("deployment-summary");
    const status = summary.getByTestId("deployment-status");
    const progress = page.getByTestId("progress-label");

    // ---- 1.0.0, followed live ----
    await page.goto(`/apps/${tenant.applicationId}`);
    await expect(page.getByTestId("deploy-QA").getByTestId("live-release")).toHaveText("No release deployed yet.");
    await deployFromApplicationPage(page, tenant.applicationId, "QA", "1.0.0", "first install");
    const sameDocument = await markDocument(page);
    await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-mode", "live");
    await expect(status).toHaveText("running");
    await expect(summary).toContainText("first install");
    await expect(progress).toHaveText("0 of 4 steps · 0/2 servers updated");

    const row1 = page.getByTestId("rollout-server-web-1");
    const stage = await web1.expectJob("STAGE");
    await web1.report(stage, { status: "RUNNING", phase: "downloading", progress: 0.5 });
    await expect(row1.getByTestId("step-STAGE")).toContainText("downloading");
    await expect(row1.getByRole("progressbar", { name: "Staging web-1" })).toHaveAttribute("aria-valuenow", "50");
    await web1.log(stage, 0, "Downloading shop-1.0.0.tar.gz\nVerified size and SHA-256\n");
    await row1.getByTestId("step-STAGE").locator("summary", { hasText: "Log" }).click();
    await expect(row1.getByTestId("step-log")).toContainText("Verified size and SHA-256");
    await web1.log(stage, 1, "Extracted into releases/1.0.0\n");
    await expect(row1.getByTestId("step-log")).toContainText("Extracted into releases/1.0.0");
    await web1.report(stage, { status: "SUCCEEDED", message: "1.0.0 staged" });
    await web2.succeed(await web2.expectJob("STAGE"));
    await expect(progress).toHaveText("2 of 4 steps · 0/2 servers updated");

    const activation = await web1.expectJob("ACTIVATE");
    await web1.report(activation, { status: "RUNNING", phase: "health-check" });
    await expect(row1.getByTestId("step-ACTIVATE")).toContainText("health-check");
    // Meanwhile the application page shows the rollout in progress, with a link to follow it.
    await dev.page.goto(`/apps/${tenant.applicationId}`);
    const inProgress = dev.page.getByTestId("deploy-QA").getByTestId("active-deployment");
    await expect(inProgress).toContainText("Deploying 1.0.0");
    await expect(inProgress).toContainText("0/2 servers");

    await web1.report(activation, { status: "SUCCEEDED", message: "web-1 serves 1.0.0" });
    await expect(progress).toHaveText("3 of 4 steps · 1/2 servers updated");
    await expect(row1.getByTestId("step-ACTIVATE")).toContainText("web-1 serves 1.0.0");
    await web2.succeed(await web2.expectJob("ACTIVATE"));
    await expect(status).toHaveText("succeeded");
    await expect(progress).toHaveText("4 of 4 steps · 2/2 servers updated");
    await expect(page.getByRole("button", { name: "Stop deployment" })).toHaveCount(0);
    expect(await sameDocument(), "the page updated without a reload").toBe(true);

    // ---- 2.0.0 fails its health check on web-1: web-1 goes back to 1.0.0 and the page says why ----
    await deployFromApplicationPage(page, tenant.applicationId, "QA", "2.0.0");
    const stillSameDocument = await markDocument(page);
    await web1.succeed(await web1.expectJob("STAGE"));
    await web2.succeed(await web2.expectJob("STAGE"));
    const bad = await web1.expectJob("ACTIVATE");
    await web1.report(bad, { status: "RUNNING", phase: "health-check" });
    await expect(page.getByTestId("rollout-server-web-1").getByTestId("step-ACTIVATE")).toContainText("health-check");
    const why = "Health check http://127.0.0.1:8080/health did not pass within 60s: HTTP 500";
    await web1.report(bad, { status: "FAILED", message: why });
    await expect(status).toHaveText("rolling back");
    const rollback = await web1.expectJob("ROLLBACK");
    expect(rollback.release.version).toBe("1.0.0");
    await web1.succeed(rollback);
    await expect(status).toHaveText("failed");
    await expect(page.getByTestId("failure-reason")).toHaveText(
      `Why it failed: web-1: activating the release failed: ${why}. Rolled back to the previous release: web-1.`,
    );
    await expect(page.getByTestId("rollout-server-web-2").getByTestId("step-ACTIVATE")).toContainText("cancelled");
    expect(await stillSameDocument(), "the page updated without a reload").toBe(true);

    // ---- 1.1.0 goes live, followed without the event stream (a proxy that blocks it): the page refreshes itself ----
    await page.route("**/api/deployments/*/events*", (route) => route.abort());
    await deployFromApplicationPage(page, tenant.applicationId, "QA", "1.1.0");
    await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-mode", "polling");
    await completeRollout(agents);
    await expect(status).toHaveText("succeeded");
    await page.unroute("**/api/deployments/*/events*");

    // ---- ops revert to 1.0.0 in one click ----
    await page.goto(`/apps/${tenant.applicationId}`);
    const qa = page.getByTestId("deploy-QA");
    await expect(qa.getByTestId("live-release")).toHaveText("Runs 1.1.0 · before: 1.0.0");
    await qa.locator("summary", { hasText: "Revert to 1.0.0" }).click();
    await qa.getByLabel("Why revert? (recorded)").fill("1.1.0 breaks the checkout");
    const sent = page.waitForRequest((r) => r.method() === "POST" && r.headers()["next-action"] !== undefined);
    await clickAndConfirm(qa.getByRole("button", { name: "Revert to 1.0.0" }), "Revert QA from 1.1.0 to 1.0.0?");
    const revertRequest = await sent;
    await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Revert QA to 1.0.0");
    await expect(summary).toContainText("1.1.0 breaks the checkout");
    await completeRollout(agents);
    await expect(status).toHaveText("succeeded");

    // ---- a developer: no revert button, and the ops' request replayed with the developer's session is refused ----
    await dev.page.goto(`/apps/${tenant.applicationId}`);
    const devQa = dev.page.getByTestId("deploy-QA");
    // Back on the first release QA ran: nothing ran before it, so there is nothing further to revert to.
    await expect(devQa.getByTestId("live-release")).toHaveText("Runs 1.0.0");
    await expect(devQa.locator("summary", { hasText: "Deploy to QA" })).toBeVisible();
    await expect(dev.page.getByText(/Revert to/)).toHaveCount(0);
    const headers = revertRequest.headers();
    const forged = await dev.page.request.post(revertRequest.url(), {
      headers: Object.fromEntries(["next-action", "next-router-state-tree", "content-type", "accept", "origin"].flatMap((h) => (headers[h] ? [[h, headers[h]]] : []))),
      data: revertRequest.postDataBuffer() ?? Buffer.alloc(0),
    });
    expect(await forged.text()).toContain("You are not allowed to do that.");

    await dev.page.getByTestId("environments").getByRole("link", { name: "1. QA" }).click();
    const history = dev.page.getByTestId("deployment-history").locator("tbody tr");
    await expect(history).toHaveCount(4);
    await expect(history.first()).toContainText("1.0.0");
    await expect(history.first()).toContainText("revert");
    await expect(history.first()).toContainText("succeeded");
    await expect(history.nth(2)).toContainText("failed");
    await expect(history.nth(2)).toContainText("Rolled back to the previous release: web-1.");
  } finally {
    stopHeartbeats();
  }
});
