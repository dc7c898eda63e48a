// A real agent (the bundle ops install) runs a deployment whose hook writes its log while the control plane goes
// away and comes back (a proxy between them is cut and restored). The lines written meanwhile reach the deployment's
// log once it is back, in order; past the agent's buffer cap the dropped lines are named as a hole, never skipped
// silently.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Before any module reads the environment: this file's artifacts go to a directory of its own.
const ARTIFACT_DIR = vi.hoisted(() => {
  const dir = `${process.env.TMPDIR ?? "/tmp"}/releasegate-log-outage-${process.pid}-${Date.now()}`;
  process.env.ARTIFACT_DIR = dir;
  return dir;
});

import { type AgentApiServer, startAgentApiServer } from "../../test/agent-api-server";
import { type CuttableProxy, startCuttableProxy } from "../../test/support/cuttable-proxy";
import { ensureAgentBundle, waitFor } from "../../test/support/fleet";
import { buildSampleArtifact } from "../../test/support/sample-artifact";
import { createMember, createTenant, environmentsOf, uniq } from "../../test/factories";
import type { UserActor } from "../../lib/auth/actor";
import { db } from "../../lib/db/client";
import { readStepLogs, type StepLogGap } from "../../lib/deployments/read-step-logs";
import { requestDeployment } from "../../lib/deployments/request-deployment";
import { createRelease } from "../../lib/releases/create-release";
import { addTarget } from "../../lib/targets/add-target";

const exec = promisify(execFile);
const LINES = 80;

let api: AgentApiServer;
let proxy: CuttableProxy;
let bundle: string;
let work: string;
let ops: UserActor;
let dev: UserActor;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let qaId: string;
let agentDir: string;
let agent: ChildProcess | null = null;
let agentLog: string;

beforeAll(async () => {
  [api, bundle] = await Promise.all([startAgentApiServer(), ensureAgentBundle()]);
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
  agentDir = path.join(work, "web-1");
  await exec(process.execPath, [bundle, "enroll", "--server", proxy.url, "--dir", agentDir], { env: { ...process.env, RELEASEGATE_ENROLL_TOKEN: enrollmentToken } });
}, 120_000);

afterAll(async () => {
  await stopAgent();
  await proxy?.close();
  await api?.close();
  await fs.rm(work, { recursive: true, force: true });
  await fs.rm(ARTIFACT_DIR, { recursive: true, force: true });
});

async function startAgent(env: Record<string, string> = {}) {
  agentLog = path.join(work, `agent-${Date.now()}.log`);
  const out = createWriteStream(agentLog);
  agent = spawn(process.execPath, [bundle, "run", "--dir", agentDir], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  agent.stdout!.pipe(out);
  agent.stderr!.pipe(out);
  await waitFor("the agent to connect", agentSays("waiting for work"));
}

async function stopAgent() {
  const a = agent;
  agent = null;
  if (!a || a.exitCode !== null) return;
  const exited = new Promise((r) => a.once("exit", r));
  a.kill("SIGTERM");
  await exited;
}

const agentSays = (text: string) => async () => (await fs.readFile(agentLog, "utf8").catch(() => "")).includes(text);

/** Every line the agent itself logged for a step (it logs each one as it writes it to the step's log). */
async function agentLinesOf(stepId: string): Promise<string[]> {
  return (await fs.readFile(agentLog, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; step?: string })
    .filter((l) => l.step === stepId && /^\d\d:\d\d:\d\d\.\d{3} /.test(l.msg)) // its own notes are not step lines
    .map((l) => l.msg);
}

/** Deploys a new release to QA and cuts the control plane off while the start hook talks; restores it when `until` holds. */
async function deployThroughOutage(until: () => Promise<boolean>) {
  const version = uniq("1.0").replace(/[^0-9A-Za-z.-]/g, "");
  const artifact = await buildSampleArtifact(version, path.join(work, `${version}.tar.gz`));
  const release = await createRelease(dev, { applicationId: tenant.application.id, version, notes: "", needsMigration: false, migrationInstructions: "" }, { fileName: "app.tar.gz", stream: createReadStream(artifact.file) });
  const { deployment } = await requestDeployment(ops, { environmentId: qaId, releaseId: release.id });

  await waitFor("the start hook to talk", agentSays("output line 3"), 60_000);
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
    await startAgent();
    const { deploymentId, stepId } = await deployThroughOutage(agentSays(`output line ${LINES - 10}`));
    const log = await readStepLogs(ops, { deploymentId, stepId, maxBytes: 1024 * 1024 });

    const numbered = [...log.text.matchAll(/output line (\d+)$/gm)].map((m) => Number(m[1]));
    expect(numbered).toEqual(Array.from({ length: LINES }, (_, i) => i + 1));
    expect(log.segments.filter((s) => "gap" in s)).toEqual([]);
    expect(log.text.split("\n").filter(Boolean)).toEqual(await agentLinesOf(stepId));
    // The outage was real: the agent could not send for a while.
    expect(await agentSays("keeping the log until the control plane answers")()).toBe(true);
    await stopAgent();
  }, 180_000);

  it("past the agent's buffer cap, drops the oldest unsent lines and the log names exactly which", async () => {
    await startAgent({ RELEASEGATE_LOG_BUFFER_BYTES: "600" });
    const { deploymentId, stepId } = await deployThroughOutage(async () => (await agentSays("dropping the oldest")()) && (await agentSays(`output line ${LINES - 10}`)()));
    const log = await readStepLogs(ops, { deploymentId, stepId, maxBytes: 1024 * 1024 });

    const gaps = log.segments.flatMap((s) => ("gap" in s ? [s.gap] : []));
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.every((g) => g.reason === "dropped" && g.fromLine !== null && g.toLine !== null)).toBe(true);
    // What the page shows plus the holes it names is exactly what the agent wrote, in order.
    const written = await agentLinesOf(stepId);
    const dropped = (g: StepLogGap) => Array.from({ length: g.toLine! - g.fromLine! + 1 }, (_, i) => g.fromLine! + i);
    const lost = new Set(gaps.flatMap(dropped));
    expect(log.text.split("\n").filter(Boolean)).toEqual(written.filter((_, i) => !lost.has(i + 1)));
    // The last lines, where a failure would show, are there.
    expect(log.text).toContain(`output line ${LINES}`);
    await stopAgent();
  }, 180_000);
});
