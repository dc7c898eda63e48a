// Faults of the control plane's own parts, proven with real parts under an open-model load through HAProxy for the
// whole of each scenario (test/support/fault-rig.ts): two control-plane instances share one PostgreSQL and one
// artifact directory behind an HAProxy the agents talk to; PostgreSQL is a cluster of this test's own (never the
// machine's shared one), restarted mid-rollout; then the instance driving a rollout is killed with SIGKILL. Each
// ends with no failed visitor request, the fleet on one version and fully in rotation, nothing recorded lost, and
// every job run exactly once. Measured figures go to docs/reliability.md.
import fs from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { haproxyCommand, parseShowStat } from "../../agent/src/lb/haproxy";
import { expectEachJobRanOnce, expectFleetWhole, expectSucceeded, type FaultRig, startFaultRig, stepsInOrder } from "../support/fault-rig";
import type { OpenLoadSummary } from "../support/open-load";

let rig: FaultRig;
const ROLLING = ["STAGE web-1 SUCCEEDED", "STAGE web-2 SUCCEEDED", "STAGE web-3 SUCCEEDED", "ACTIVATE web-1 SUCCEEDED", "ACTIVATE web-2 SUCCEEDED", "ACTIVATE web-3 SUCCEEDED"];

beforeAll(async () => {
  rig = await startFaultRig({ name: "control-plane", controlPlanes: 2, ownPostgres: true, releases: { upload: ["1.0.0", "2.0.0", "3.0.0", "4.0.0"], live: "1.0.0" } });
}, 180_000);

afterAll(async () => {
  await rig?.stop();
}, 60_000);


/** Requests each control-plane instance has served through the agents' HAProxy (show stat's stot). */
async function servedBy(): Promise<Record<string, number>> {
  const rows = parseShowStat(await haproxyCommand(rig.controlPlaneBalancer.observerAddress, "show stat"));
  return Object.fromEntries(rows.filter((r) => r.pxname === "releasegate" && r.svname?.startsWith("cp-")).map((r) => [r.svname!, Number(r.stot)]));
}

async function auditRows(): Promise<{ seq: bigint; hash: string; type: string }[]> {
  return rig.domain.db.$queryRaw`SELECT seq, hash, type FROM "AuditEvent" ORDER BY seq`;
}

it("PostgreSQL restarted mid-rollout: the rollout carries on and ends as it should; nothing recorded is lost", async () => {
  const { result, load } = await rig.underLoad(async () => {
    const id = await rig.deploy("2.0.0");
    await rig.waitForStep(id, "web-2", "ACTIVATE", (s) => s.status === "RUNNING");
    const recorded = await auditRows();
    const restartStarted = Date.now();
    await rig.postgres!.restart(2_000);
    const restartMs = Date.now() - restartStarted;
    return { d: await rig.waitForDeployment(id), recorded, restartMs };
  });
  const { d, recorded } = result;
  expectSucceeded(d);
  expect(stepsInOrder(d)).toEqual(ROLLING);
  await expectFleetWhole(rig, "2.0.0", load, 300);
  await expectEachJobRanOnce(rig, d.id);
  // Nothing recorded is lost: every audit event committed before the restart is still there, unchanged; the chain
  // (hashes and signed checkpoints) verifies; each step's end is recorded once.
  const after = await auditRows();
  expect(after.slice(0, recorded.length)).toEqual(recorded);
  const { verifyDatabase } = await import("../../lib/audit/verify-database");
  const { loadPublicKey } = await import("../../lib/audit/signing-key");
  const key = loadPublicKey(await fs.readFile(rig.signingKeyPath.replace(/\.pem$/, ".pub.pem"), "utf8"));
  expect(await verifyDatabase(rig.databaseUrl, key)).toMatchObject({ ok: true, events: after.length });
  const finished = await rig.domain.db.auditEvent.findMany({ where: { type: "DEPLOYMENT_STEP_FINISHED", objectId: { in: d.servers.flatMap((s) => s.steps.map((x) => x.id)) } } });
  expect(finished).toHaveLength(6);
  // Neither instance fell over on the connections PostgreSQL cut.
  expect(rig.controlPlanes.map((cp) => cp.running())).toEqual([true, true]);
  console.log(
    `[reliability] PostgreSQL restart mid-rollout (down ${(result.restartMs / 1000).toFixed(1)} s): ${d.status} in ${((d.finishedAt!.getTime() - d.startedAt!.getTime()) / 1000).toFixed(1)} s; ${load.sent} requests, ${load.failed} failed`,
  );
}, 150_000);

it("kill -9 of the control-plane instance driving a rollout: the other carries it on, every agent reconnects, no job runs twice", async () => {
  const [driving, standby] = rig.controlPlanes as [FaultRig["controlPlanes"][0], FaultRig["controlPlanes"][0]];
  const { result, load } = await rig.underLoad(async () => {
    const id = await rig.deploy("3.0.0");
    await rig.waitForStep(id, "web-2", "ACTIVATE", (s) => s.status === "RUNNING");
    // cp-1 is the one driving: the agents' HAProxy sends it everything (balance first) while it is up.
    const before = await servedBy();
    const killedAt = Date.now();
    await driving.kill();
    const d = await rig.waitForDeployment(id);
    const carriedOnMs = d.finishedAt!.getTime() - killedAt;
    // Every agent works through the surviving instance: a whole new rollout over all three nodes.
    const next = await rig.waitForDeployment(await rig.deploy("4.0.0"));
    return { d, next, before, after: await servedBy(), carriedOnMs };
  });
  const { d, next, before, after } = result;
  expect(before["cp-1"]).toBeGreaterThan(0);
  expect(before["cp-2"]).toBe(0);
  expect(after["cp-2"]).toBeGreaterThan(0);
  expect(driving.running()).toBe(false);
  expect(standby.running()).toBe(true);

  expectSucceeded(d);
  expect(stepsInOrder(d)).toEqual(ROLLING);
  expectSucceeded(next);
  expect(stepsInOrder(next)).toEqual(ROLLING);
  await expectFleetWhole(rig, "4.0.0", load, 300);
  await expectEachJobRanOnce(rig, d.id);
  await expectEachJobRanOnce(rig, next.id);
  console.log(
    `[reliability] kill -9 of the driving instance mid-rollout: ${d.status}, finished ${(result.carriedOnMs / 1000).toFixed(1)} s after the kill; next rollout through cp-2 alone ${((next.finishedAt!.getTime() - next.startedAt!.getTime()) / 1000).toFixed(1)} s; ${load.sent} requests, ${load.failed} failed`,
  );
}, 150_000);
