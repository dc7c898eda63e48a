// A real agent (the bundle ops install) runs a deployment whose hook writes its log while the control plane goes
// away and comes back (a proxy between them is cut and restored). The lines written meanwhile reach the deployment's
// log once it is back, in order; past the agent's buffer cap the dropped lines are named as a hole, never skipped
// silently.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Before any module reads the environment: this file's artifacts go to a directory of its own.
const ARTIFACT_DIR = vi.hoisted(() => {
  const dir = `${process.env.TMPDIR ?? "/tmp"}/releasegate-log-outage-${process.pid}-${Date.now()}`;
  process.env.ARTIFACT_DIR = dir;
  return dir;
});

import { type AgentApiServer, startAgentApiServer } from "../../test/agent-api-server";
import { type CuttableProxy, startCuttableProxy } from "../../test/support/cuttable-proxy";
import { waitFor } from "../../test/support/fleet";
import { RealAgent, uploadSample } from "../../test/support/real-agent";
import { createMember, createTenant, environmentsOf, uniq } from "../../test/factories";
import type { UserActor } from "../../lib/auth/actor";
import { db } from "../../lib/db/client";
import { readStepLogs, type StepLogGap } from "../../lib/deployments/read-step-logs";
import { requestDeployment } from "../../lib/deployments/request-deployment";
import { addTarget } from "../../lib/targets/add-target";

const LINES = 80;

let api: AgentApiServer;
let proxy: CuttableProxy;
let work: string;
let ops: UserActor;
let dev: UserActor;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let qaId: string;
let agent: RealAgent;

beforeAll(async () => {
  api = await startAgentApiServer();
  proxy = await startCuttableProxy(Number(new URL(api.url).port));
  work = await fs.mkdtemp(path.join(os.tmpdir(), "rg-log-outage-"));
  tenant = await createTenant();
  [ops, dev] = await Promise.all([createMember(tenant, "OPS"), createMember(tenant, "DEVELOPER")]);
  const qa = (await environmentsOf(tenant.application.id))[0]!;
  qaId = qa.id;
  // The start hook talks for a few seconds, one numbered line every 50 ms: long enough to span the outage.
  await db.environment.update({
    where: { id: qaId },
    data: { startCommand: `i=1; while [ $i -le ${LINES} ]; do echo "output line $i"; i=$((i+1)); sleep 0.05; done`, healthCheckUrl: null, hookTimeoutSeconds: 60 },
  });
  const { enrollmentToken } = await addTarget(ops, { environmentId: qaId, name: "web-1" });
  agent = await RealAgent.enroll({ server: proxy.url, token: enrollmentToken, dir: path.join(work, "web-1") });
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await proxy?.close();
  await api?.close();
  await fs.rm(work, { recursive: true, force: true });
  await fs.rm(ARTIFACT_DIR, { recursive: true, force: true });
});

/** Deploys a new release to QA and cuts the control plane off while the start hook talks; restores it when `until` holds. */
async function deployThroughOutage(until: () => Promise<boolean>) {
  const release = await uploadSample(dev, tenant.application.id, uniq("1.0").replace(/[^0-9A-Za-z.-]/g, ""), work);
  const { deployment } = await requestDeployment(ops, { environmentId: qaId, releaseId: release.id });

  await waitFor("the start hook to talk", agent.says("output line 3"), 60_000);
  await proxy.cut();
  await waitFor("the outage to last while the hook writes", until, 60_000);
  await proxy.restore();
  await waitFor("the deployment to end", async () => ["SUCCEEDED", "FAILED"].includes((await db.deployment.findUniqueOrThrow({ where: { id: deployment.id } })).status), 90_000);
  const d = await db.deployment.findUniqueOrThrow({ where: { id: deployment.id }, include: { steps: true } });
  expect(d.status, d.failureReason ?? "").toBe("SUCCEEDED");
  const step = d.steps.find((s) => s.action === "ACTIVATE")!;
  return { deploymentId: d.id, stepId: step.id };
}

describe("step logs while the control plane is unreachable", () => {
  it("are kept by the agent and sent when it is back: the whole log, in order, no hole", async () => {
    await agent.start();
    const { deploymentId, stepId } = await deployThroughOutage(agent.says(`output line ${LINES - 10}`));
    const log = await readStepLogs(ops, { deploymentId, stepId, maxBytes: 1024 * 1024 });

    const numbered = [...log.text.matchAll(/output line (\d+)$/gm)].map((m) => Number(m[1]));
    expect(numbered).toEqual(Array.from({ length: LINES }, (_, i) => i + 1));
    expect(log.segments.filter((s) => "gap" in s)).toEqual([]);
    expect(log.text.split("\n").filter(Boolean)).toEqual(await agent.stepLines(stepId));
    // The outage was real: the agent could not send for a while.
    expect(await agent.says("keeping the log until the control plane answers")()).toBe(true);
    await agent.stop();
  }, 180_000);

  it("past the agent's buffer cap, drops the oldest unsent lines and the log names exactly which", async () => {
    await agent.start({ RELEASEGATE_LOG_BUFFER_BYTES: "600" });
    const { deploymentId, stepId } = await deployThroughOutage(async () => (await agent.says("dropping the oldest")()) && (await agent.says(`output line ${LINES - 10}`)()));
    const log = await readStepLogs(ops, { deploymentId, stepId, maxBytes: 1024 * 1024 });

    const gaps = log.segments.flatMap((s) => ("gap" in s ? [s.gap] : []));
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.every((g) => g.reason === "dropped" && g.fromLine !== null && g.toLine !== null)).toBe(true);
    // What the page shows plus the holes it names is exactly what the agent wrote, in order.
    const written = await agent.stepLines(stepId);
    const dropped = (g: StepLogGap) => Array.from({ length: g.toLine! - g.fromLine! + 1 }, (_, i) => g.fromLine! + i);
    const lost = new Set(gaps.flatMap(dropped));
    expect(log.text.split("\n").filter(Boolean)).toEqual(written.filter((_, i) => !lost.has(i + 1)));
    // The newest lines, where a failure would show, are never the ones dropped: the log ends as the agent's did. (Which
    // older lines go depends on how long the agent took to reach the control plane again, so no line number is fixed.)
    expect(log.text.split("\n").filter(Boolean).at(-1)).toBe(written.at(-1));
    await agent.stop();
  }, 180_000);
});
