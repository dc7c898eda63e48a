// What the pages say about the fleet is what the fleet reports. A server taken over from another tool shows the
// build it runs (not "no release installed"); after Releasegate's first release there, the revert says it returns
// to that build and does; a step log with lines the agent had to drop marks the hole where it is; a server revoked
// during a rollout leaves it, and the page says so. Agents are played by the test over the real agent API.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Page } from "@playwright/test";
import { addServer, clickAndConfirm, createRelease, expect, keepOnline, signedInMember, SimulatedAgent, test } from "./fixtures";

const shots = path.resolve("test-results", "screenshots");
async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(shots, { recursive: true });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true, animations: "disabled" });
}

async function deployFromApplicationPage(page: Page, applicationId: string, environment: string, version: string): Promise<void> {
  await page.goto(`/apps/${applicationId}`);
  const card = page.getByTestId(`deploy-${environment}`);
  await card.locator("summary", { hasText: `Deploy to ${environment}` }).click();
  await card.getByLabel("Release").selectOption({ label: version });
  await card.getByRole("button", { name: `Deploy to ${environment}` }).click();
  await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
}

test("a server taken over from another tool shows what it runs; a revert of the first release returns it there; a log hole is marked", async ({
  adminPage: admin,
  tenant,
  newBrowserPage,
  request,
}) => {
  test.setTimeout(120_000);
  const ops = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Oona", last: "Ops", role: "Ops" });
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dan", last: "Developer", role: "Developer" });
  const page = ops.page;
  const web1 = await SimulatedAgent.enroll(request, await addServer(page, tenant.applicationId, "QA", "web-1"), "web-1");
  // Capistrano deployed this server until now: `current` points at its newest release.
  web1.current = { kind: "foreign", path: "releases/20240301090000", revision: "4f2a9c1" };
  await web1.heartbeat();
  const stopHeartbeats = keepOnline([web1]);
  try {
    await page.goto(`/apps/${tenant.applicationId}`);
    await page.getByTestId("environments").getByRole("link", { name: "1. QA" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${tenant.application} / QA`);
    const row = page.getByTestId("server-web-1");
    await expect(row.getByTestId("server-runs")).toContainText("runs releases/20240301090000 (revision 4f2a9c1), installed outside Releasegate · agent 0.1.0-e2e on web-1");
    await expect(row).toContainText("outside Releasegate");
    await expect(page.getByText("runs builds installed outside Releasegate (see its servers)")).toBeVisible();
    await screenshot(page, "environment-taken-over");

    // ---- Releasegate's first release there; the activation's log lost lines 3-8 while the control plane was away ----
    await createRelease(tenant.applicationId, dev.person.email, "1.0.0");
    await deployFromApplicationPage(page, tenant.applicationId, "QA", "1.0.0");
    await web1.succeed(await web1.expectJob("STAGE"));
    const activation = await web1.expectJob("ACTIVATE");
    await web1.report(activation, { status: "RUNNING", phase: "starting-app" });
    await web1.logChunks(activation, { chunks: [{ seq: 0, line: 1, text: "Switching web-1 from nothing to 1.0.0\n$ stop: systemctl stop shop\n" }] });
    await web1.logChunks(activation, {
      chunks: [{ seq: 3, line: 9, text: "start finished in 2.1 s\nweb-1 serves 1.0.0\n" }],
      lost: [{ fromSeq: 1, toSeq: 2, fromLine: 3 }],
    });
    const server = page.getByTestId("rollout-server-web-1");
    await server.getByTestId("step-ACTIVATE").locator("summary", { hasText: "Log" }).click();
    const log = server.getByTestId("step-log");
    await expect(log).toContainText("web-1 serves 1.0.0");
    await expect(log.getByTestId("step-log-gap")).toHaveText("Lines 3–8 were lost: the agent's buffer filled while it could not reach the control plane.");
    await web1.report(activation, { status: "SUCCEEDED", message: "web-1 serves 1.0.0" });
    await expect(page.getByTestId("deployment-summary").getByTestId("deployment-status")).toHaveText("succeeded");
    await expect(page.getByTestId("deployment-summary")).toContainText("builds installed outside Releasegate (web-1: releases/20240301090000)");
    await screenshot(page, "deployment-log-gap");

    // ---- the revert says what it returns to, and returns there ----
    await web1.heartbeat();
    await page.goto(`/apps/${tenant.applicationId}`);
    const qa = page.getByTestId("deploy-QA");
    await expect(qa.getByTestId("live-release")).toHaveText("Runs 1.0.0 · before: the builds from before Releasegate");
    await qa.locator("summary", { hasText: "Revert to the builds from before Releasegate" }).click();
    await expect(qa.getByTestId("revert-earlier-builds")).toContainText("web-1: releases/20240301090000");
    await screenshot(page, "revert-to-earlier-builds");
    await qa.getByLabel("Why revert? (recorded)").fill("the new build misbehaves");
    await clickAndConfirm(qa.getByRole("button", { name: "Revert to the earlier builds" }), "Revert QA from 1.0.0 to the builds from before Releasegate?");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Revert QA to the builds from before Releasegate");
    const back = await web1.expectJob("ACTIVATE");
    expect(back.restore).toEqual({ path: "releases/20240301090000" });
    await web1.succeed(back);
    await expect(page.getByTestId("deployment-summary").getByTestId("deployment-status")).toHaveText("succeeded");

    await web1.heartbeat();
    await page.goto(`/apps/${tenant.applicationId}`);
    await expect(page.getByTestId("server-web-1").getByTestId("server-runs")).toContainText("runs releases/20240301090000, installed outside Releasegate");
    await expect(page.getByText(/^Revert to/)).toHaveCount(0);
  } finally {
    stopHeartbeats();
  }
});

test("a server revoked during a rollout leaves it: its waiting step is skipped and the rollout finishes on the others", async ({
  adminPage: admin,
  tenant,
  newBrowserPage,
  request,
}) => {
  test.setTimeout(120_000);
  const ops = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Orla", last: "Ops", role: "Ops" });
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dora", last: "Developer", role: "Developer" });
  const page = ops.page;
  const agents: SimulatedAgent[] = [];
  for (const name of ["web-1", "web-2"]) agents.push(await SimulatedAgent.enroll(request, await addServer(page, tenant.applicationId, "QA", name), name));
  const [web1] = agents as [SimulatedAgent, SimulatedAgent];
  const stopHeartbeats = keepOnline(agents);
  try {
    await createRelease(tenant.applicationId, dev.person.email, "1.0.0");
    await deployFromApplicationPage(page, tenant.applicationId, "QA", "1.0.0");
    const deploymentUrl = page.url();
    await web1.succeed(await web1.expectJob("STAGE"));

    // web-2 never picks up its stage: ops revoke its agent.
    await page.goto(`/apps/${tenant.applicationId}`);
    await clickAndConfirm(page.getByTestId("server-web-2").getByRole("button", { name: "Revoke" }), "Revoke the agent of web-2? It is refused from its next call.");
    await expect(page.getByTestId("server-web-2")).toContainText("revoked");

    await page.goto(deploymentUrl);
    await expect(page.getByTestId("rollout-server-web-2")).toContainText("Not run: the agent of web-2 was revoked, so this server is no longer part of the rollout.");
    await web1.succeed(await web1.expectJob("ACTIVATE"));
    await expect(page.getByTestId("deployment-summary").getByTestId("deployment-status")).toHaveText("succeeded");
    await expect(page.getByTestId("rollout-server-web-2").getByTestId("step-ACTIVATE")).toHaveCount(0);
  } finally {
    stopHeartbeats();
  }
});
