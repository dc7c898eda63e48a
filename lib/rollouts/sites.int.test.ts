// The rollout engine with sites, against real PostgreSQL: sites and servers set up through the domain as ops do,
// deployments requested and continued through the domain, agents played by calling the agent-facing domain functions
// (test/simulated-fleet.ts). What the planner promises in its property tests holds when the reconciler runs it.
import { describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { auditEventsSince, lastAuditSeq } from "../../test/factories";
import { drive, type Fleet, release, simulatedFleet } from "../../test/simulated-fleet";
import { db } from "../db/client";
import { cancelDeployment } from "../deployments/cancel-deployment";
import { continueDeployment } from "../deployments/continue-deployment";
import { requestDeployment } from "../deployments/request-deployment";
import { requestRevert } from "../deployments/request-revert";
import { onDeploymentFinished } from "../notifications/on-deployment-finished";
import { getDeploymentStatus } from "../releases/get-deployment-status";
import { assignTargetSite } from "../sites/assign-target-site";
import { createSite } from "../sites/create-site";
import { updateSiteSettings } from "../sites/update-site-settings";
import { revokeAgent } from "../targets/revoke-agent";

/** Sites named after `layout`'s keys holding the fleet's servers web-1… in order, e.g. { fra: 2, ams: 2 }. */
async function withSites(f: Fleet, layout: Record<string, number>, settings: { siteOrder?: "CHOSEN" | "SMALLEST_FIRST"; siteFloor?: number; pauseAfterFirstSite?: boolean } = {}) {
  let i = 0;
  for (const [name, count] of Object.entries(layout)) {
    const site = await createSite(f.ops, { environmentId: f.environmentId, name });
    for (let n = 0; n < count; n++) await assignTargetSite(f.ops, { targetId: f.agents[i++]!.targetId, siteId: site.id });
  }
  await updateSiteSettings(f.ops, { environmentId: f.environmentId, siteOrder: settings.siteOrder ?? "CHOSEN", siteFloor: settings.siteFloor ?? 0, pauseAfterFirstSite: settings.pauseAfterFirstSite ?? false });
}

const paused = (d: { pausedAt: Date | null; continuedAt: Date | null; status: string }) => (d.pausedAt !== null && d.continuedAt === null) || ["SUCCEEDED", "FAILED", "CANCELLED"].includes(d.status);
const activations = (ran: { action: string; target: string; batch: number }[]) => ran.filter((j) => j.action !== "STAGE").map((j) => `${j.action} ${j.target} #${j.batch}`);

describe("a rollout across sites", () => {
  it("goes site by site under the floor, pauses after the first site until ops continue, and records both on the release's evidence", async () => {
    const f = await simulatedFleet(4, { batchSize: 2 });
    await withSites(f, { fra: 2, ams: 2 }, { siteFloor: 1, pauseAfterFirstSite: true });
    const v1 = await release(f, "1.0.0");
    const since = await lastAuditSeq();
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v1.id });

    const first = await drive(f, deployment.id, undefined, undefined, paused);
    // Batches of 2, but fra keeps 1 of its 2 servers serving: one at a time.
    expect(activations(first.ran)).toEqual(["ACTIVATE web-1 #1", "ACTIVATE web-2 #2"]);
    expect(first.deployment).toMatchObject({ status: "RUNNING", pausedAfterSite: "fra", continuedAt: null, siteSequence: [await siteId(f, "fra"), await siteId(f, "ams")] });
    const api = await getDeploymentStatus(f.ops, deployment.id);
    expect(api.deployment.pause).toMatchObject({ waiting: true, afterSite: "fra", continuedAt: null, continuedBy: null });
    expect(api.deployment.steps.items.filter((s) => s.action === "ACTIVATE").map((s) => `${s.server}@${s.site}`)).toEqual(["web-1@fra", "web-2@fra"]);

    // Whoever may continue it is told (idempotent: the engine's own call after its commit may have run already).
    await onDeploymentFinished(deployment.id);
    const told = await db.notification.findMany({ where: { kind: "deployment.paused", link: `/deployments/${deployment.id}` }, select: { userId: true, title: true } });
    expect(told).toEqual([{ userId: f.ops.id, title: `Deployment of ${f.tenant.application.name} 1.0.0 to Production is paused after site fra` }]);
    // Nothing moves on its own while paused, however often the engine is asked.
    expect((await drive(f, deployment.id, undefined, undefined, () => true)).ran).toEqual([]);
    // Only ops continue a production rollout; once, and only while it is paused.
    await expectAppError(continueDeployment(f.dev, { deploymentId: deployment.id }), "FORBIDDEN");
    await continueDeployment(f.ops, { deploymentId: deployment.id });
    await expectAppError(continueDeployment(f.ops, { deploymentId: deployment.id }), "CONFLICT", /already continued this deployment/);

    const rest = await drive(f, deployment.id);
    expect(rest.deployment.status).toBe("SUCCEEDED");
    expect(activations(rest.ran)).toEqual(["ACTIVATE web-3 #3", "ACTIVATE web-4 #4"]);
    expect((await getDeploymentStatus(f.ops, deployment.id)).deployment.pause).toMatchObject({ waiting: false, afterSite: "fra", continuedBy: f.ops.name });

    const events = await auditEventsSince(since, { objectId: deployment.id });
    const pause = events.find((e) => e.type === "DEPLOYMENT_PAUSED")!;
    const resume = events.find((e) => e.type === "DEPLOYMENT_CONTINUED")!;
    expect(pause).toMatchObject({ actorType: "SYSTEM", releaseId: v1.id, summary: expect.stringContaining("paused after site fra: it goes on with site ams when someone continues it") });
    expect(resume).toMatchObject({ actorType: "USER", actorId: f.ops.id, releaseId: v1.id, summary: expect.stringContaining("after site fra") });
    expect(events.map((e) => e.type).filter((t) => t !== "DEPLOYMENT_STEP_FINISHED")).toEqual(["DEPLOYMENT_REQUESTED", "DEPLOYMENT_STARTED", "DEPLOYMENT_PAUSED", "DEPLOYMENT_CONTINUED", "DEPLOYMENT_SUCCEEDED"]);
  });

  it("a failure in the second site rolls back every touched server in both sites, never below a site's floor", async () => {
    const f = await simulatedFleet(6, { batchSize: 3 });
    await withSites(f, { fra: 3, ams: 3 }, { siteFloor: 1 });
    const v1 = await release(f, "1.0.0");
    await drive(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v1.id })).deployment.id);
    const v2 = await release(f, "2.0.0");
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v2.id });
    const { deployment: done, ran } = await drive(f, deployment.id, (job) => (job.action === "ACTIVATE" && job.target.name === "web-5" ? "FAILED" : "SUCCEEDED"));
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("web-5: activating the release failed: health check failed: 500. Rolled back to the previous release: web-1, web-2, web-3, web-4, web-5.");
    expect(activations(ran)).toEqual([
      // fra: 2 of 3 at a time (floor 1), then the third; ams likewise until web-5 fails.
      "ACTIVATE web-1 #1", "ACTIVATE web-2 #1", "ACTIVATE web-3 #2", "ACTIVATE web-4 #3", "ACTIVATE web-5 #3",
      // The broken web-5 and web-4 (ams keeps web-6 serving), then fra two and one.
      "ROLLBACK web-4 #1", "ROLLBACK web-5 #1", "ROLLBACK web-1 #2", "ROLLBACK web-2 #2", "ROLLBACK web-3 #3",
    ]);
    const live = await db.target.findMany({ where: { environmentId: f.environmentId }, orderBy: { name: "asc" } });
    expect(live.map((t) => t.liveReleaseId)).toEqual(Array(6).fill(v1.id));
  });

  it("a cancel while paused rolls the first site back and ends cancelled", async () => {
    const f = await simulatedFleet(3);
    await withSites(f, { small: 1, big: 2 }, { siteOrder: "SMALLEST_FIRST", pauseAfterFirstSite: true });
    const v1 = await release(f, "1.0.0");
    await drive(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v1.id })).deployment.id, undefined, undefined, paused);
    const d1 = await db.deployment.findFirstOrThrow({ where: { releaseId: v1.id } });
    await continueDeployment(f.ops, { deploymentId: d1.id });
    await drive(f, d1.id);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f, "2.0.0")).id });
    const first = await drive(f, deployment.id, undefined, undefined, paused);
    expect(first.deployment.pausedAfterSite).toBe("small");
    await cancelDeployment(f.ops, { deploymentId: deployment.id });
    await expectAppError(continueDeployment(f.ops, { deploymentId: deployment.id }), "CONFLICT", /asked to stop|no longer running/);
    const { deployment: done, ran } = await drive(f, deployment.id);
    expect(done.status).toBe("CANCELLED");
    expect(activations(ran)).toEqual(["ROLLBACK web-1 #1"]);
    expect((await db.target.findMany({ where: { environmentId: f.environmentId } })).every((t) => t.liveReleaseId === v1.id)).toBe(true);
  });

  it("is refused at request time when a site has no more servers than the floor, saying which and how to fix it", async () => {
    const f = await simulatedFleet(3);
    await withSites(f, { fra: 2, ams: 1 }, { siteFloor: 1 });
    const r = await release(f);
    await expectAppError(
      requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id }),
      "PRECONDITION_FAILED",
      "Production cannot be rolled out: Site ams has 1 server and the floor is 1 serving server per site: none could be taken out to be updated. Lower the floor, or add servers.",
    );
    await expectAppError(requestRevert(f.ops, { environmentId: f.environmentId, reason: "x" }), "PRECONDITION_FAILED");
    expect(await db.deployment.count({ where: { environmentId: f.environmentId } })).toBe(0);
  });

  it("keeps the settings it was requested with, and servers cannot change sites while it runs", async () => {
    const f = await simulatedFleet(4, { batchSize: 3 });
    await withSites(f, { fra: 2, ams: 2 }, { siteFloor: 1 });
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id });
    await expectAppError(assignTargetSite(f.ops, { targetId: f.agents[0]!.targetId, siteId: "" }), "CONFLICT", "A rollout is running in Production: servers cannot change sites until it has finished (its floor counts the servers of each site).");
    // Ops lower the floor and ask for a pause meanwhile: the running rollout keeps its own.
    await updateSiteSettings(f.ops, { environmentId: f.environmentId, siteOrder: "SMALLEST_FIRST", siteFloor: 0, pauseAfterFirstSite: true });
    const { deployment: done, ran } = await drive(f, deployment.id);
    expect(done).toMatchObject({ status: "SUCCEEDED", pausedAt: null, siteFloor: 1 });
    expect(activations(ran)).toEqual(["ACTIVATE web-1 #1", "ACTIVATE web-2 #2", "ACTIVATE web-3 #3", "ACTIVATE web-4 #4"]);
  });

  it("a site that shrinks below its floor mid-rollout (agents revoked) halts it and rolls back, saying why", async () => {
    const f = await simulatedFleet(4);
    await withSites(f, { fra: 2, ams: 2 }, { siteFloor: 1, pauseAfterFirstSite: true });
    const v1 = await release(f, "1.0.0");
    const first = (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v1.id })).deployment.id;
    await drive(f, first, undefined, undefined, paused);
    await continueDeployment(f.ops, { deploymentId: first });
    await drive(f, first);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f, "2.0.0")).id });
    await drive(f, deployment.id, undefined, undefined, paused);
    // While it waits after fra, web-4's agent is revoked: ams has one server left that can run work, its floor is 1.
    // Nobody needs to continue a rollout that cannot go on: it halts at once.
    await revokeAgent(f.ops, { targetId: f.agents[3]!.targetId });
    await expectAppError(continueDeployment(f.ops, { deploymentId: deployment.id }), "CONFLICT", "This deployment is no longer running.");
    const { deployment: done, ran } = await drive(f, deployment.id);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe(
      "The rollout cannot go on: Site ams has 1 server that can still run work (the agents of the others were revoked) and the floor is 1 serving server per site: none could be taken out to be updated. " +
        "Rolled back to the previous release: web-1, web-2.",
    );
    expect(activations(ran)).toEqual(["ROLLBACK web-1 #1", "ROLLBACK web-2 #2"]);
  });
});

async function siteId(f: Fleet, name: string): Promise<string> {
  return (await db.site.findFirstOrThrow({ where: { environmentId: f.environmentId, name } })).id;
}
