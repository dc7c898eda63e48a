// Scheduled deployments (maintenance windows) against real PostgreSQL: the time is checked when it is chosen, the
// gates are judged for that time when it is scheduled and again, as they then stand, when it is due; a deployment
// that no longer passes ends before touching a server, says why, and is audited; scheduling and cancelling are
// audited with the change and told to the people concerned.
import { describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createMember, testContext } from "../../test/factories";
import { driveToEnd, releaseFlow, releaseInAcceptance } from "../../test/release-flow";
import { release, simulatedFleet } from "../../test/simulated-fleet";
import { tryClaim } from "../agents/claim-job";
import { createFreeze } from "../approvals/create-freeze";
import { approveRelease } from "../approvals/approve-release";
import { recordVerdict } from "../approvals/record-verdict";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { revokeRole } from "../memberships/revoke-role";
import { settleBackgroundWork } from "../notifications/background";
import { onDeploymentFinished } from "../notifications/on-deployment-finished";
import { advanceRollout } from "../rollouts/advance-rollout";
import { startScheduledDeployment } from "../rollouts/start-scheduled-deployment";
import { cancelDeployment } from "./cancel-deployment";
import { deployOptions } from "./deploy-options";
import { MAX_SCHEDULE_AHEAD_DAYS, requestDeployment } from "./request-deployment";

const inRequest = (actor: UserActor) => ({ ...actor, ctx: testContext() });
const eventsOf = (actor: UserActor) => db.auditEvent.findMany({ where: { requestId: actor.ctx.requestId }, orderBy: { seq: "asc" } });
const inHours = (h: number) => new Date(Date.now() + h * 3_600_000);
/** "2026-11-22 14:03 UTC", as the messages write an instant. */
const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
const deploymentOf = (id: string) => db.deployment.findUniqueOrThrow({ where: { id }, include: { steps: true } });

describe("scheduling a deployment", () => {
  it("refuses a time in the past, one absurdly far ahead, or none when 'later' was chosen, on the time field; 'now' ignores a time left in the form", async () => {
    const f = await simulatedFleet(1);
    const r = await release(f);
    const base = { environmentId: f.environmentId, releaseId: r.id };
    const past = await expectAppError(requestDeployment(f.ops, { ...base, timing: "later", scheduledFor: new Date(Date.now() - 60_000).toISOString() }), "INVALID_INPUT");
    expect(past.fieldErrors).toEqual({ scheduledFor: ["That time has passed: pick a time in the future."] });
    const far = await expectAppError(requestDeployment(f.ops, { ...base, scheduledFor: inHours(24 * (MAX_SCHEDULE_AHEAD_DAYS + 1)) }), "INVALID_INPUT");
    expect(far.fieldErrors).toEqual({ scheduledFor: [`Pick a time within the next ${MAX_SCHEDULE_AHEAD_DAYS} days.`] });
    const none = await expectAppError(requestDeployment(f.ops, { ...base, timing: "later", scheduledFor: "" }), "INVALID_INPUT");
    expect(none.fieldErrors).toEqual({ scheduledFor: ["Pick the date and time to deploy at."] });
    const garbage = await expectAppError(requestDeployment(f.ops, { ...base, timing: "later", scheduledFor: "tomorrow-ish" }), "INVALID_INPUT");
    expect(garbage.fieldErrors).toEqual({ scheduledFor: ["Enter a valid date and time."] });
    expect(await db.deployment.count({ where: { environmentId: f.environmentId } })).toBe(0);

    const { deployment } = await requestDeployment(f.ops, { ...base, timing: "now", scheduledFor: new Date(Date.now() - 60_000).toISOString() });
    expect(await deploymentOf(deployment.id)).toMatchObject({ status: "RUNNING", scheduledFor: null });
  });

  it("is audited with the change, holds the environment, and tells the other ops and the uploader; cancelling ends it at once, audited and told", async () => {
    const f = await simulatedFleet(1);
    const colleague = await createMember(f.tenant, "OPS");
    const r = await release(f, "4.2.0");
    const at = inHours(26);
    const ops = inRequest(f.ops);
    const { deployment } = await requestDeployment(ops, { environmentId: f.environmentId, releaseId: r.id, timing: "later", scheduledFor: at.toISOString(), reason: "Sunday window" });
    expect(deployment).toMatchObject({ status: "SCHEDULED", scheduledFor: at });
    const [requested, ...more] = await eventsOf(ops);
    expect(more).toEqual([]);
    expect(requested).toMatchObject({
      type: "DEPLOYMENT_REQUESTED",
      actorId: f.ops.id,
      objectId: deployment.id,
      summary: `scheduled deployment of 4.2.0 to ${f.tenant.application.name} / Production for ${at.toISOString()}`,
      after: { scheduledFor: at.toISOString(), artifactSha256: r.artifactSha256, reason: "Sunday window" },
    });
    expect(await tryClaim(f.agents[0]!)).toBeNull();
    await expectAppError(
      requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id }),
      "CONFLICT",
      `A deployment of 4.2.0 to Production is scheduled for ${utc(at)}. Wait for it to finish or cancel it first.`,
    );

    await settleBackgroundWork();
    const told = await db.notification.findMany({ where: { kind: "deployment.scheduled", link: `/deployments/${deployment.id}` } });
    // The other ops and the uploader; the requester is not told of their own act.
    expect(told.map((n) => n.userId).sort()).toEqual([f.dev.id, colleague.id].sort());
    expect(told[0]?.title).toBe(`Deployment of ${f.tenant.application.name} 4.2.0 to Production is scheduled for ${utc(at)}`);

    await expectAppError(cancelDeployment(f.dev, { deploymentId: deployment.id }), "FORBIDDEN");
    const cancel = inRequest(f.ops);
    expect(await cancelDeployment(cancel, { deploymentId: deployment.id })).toEqual({ previousStatus: "SCHEDULED" });
    expect(await deploymentOf(deployment.id)).toMatchObject({ status: "CANCELLED", cancelRequestedById: f.ops.id, steps: [] });
    const [cancelled, ...andMore] = await eventsOf(cancel);
    expect(andMore).toEqual([]);
    expect(cancelled).toMatchObject({ type: "DEPLOYMENT_CANCEL_REQUESTED", before: { status: "SCHEDULED" }, after: { status: "CANCELLED" } });
    expect(cancelled?.summary).toBe(`cancelled the deployment of 4.2.0 to ${f.tenant.application.name} / Production scheduled for ${at.toISOString()}`);
    await settleBackgroundWork();
    const ended = await db.notification.findMany({ where: { kind: "deployment.cancelled", link: `/deployments/${deployment.id}` } });
    const body = `It was scheduled for ${utc(at)} by ${f.ops.name}; it was cancelled before it started.`;
    expect(ended.map((n) => [n.userId, n.body]).sort()).toEqual([[f.dev.id, body], [colleague.id, body]].sort());
    // The environment is free again, and the time passing changes nothing.
    expect(await startScheduledDeployment(deployment.id, new Date(at.getTime() + 1_000))).toBeNull();
    expect((await deploymentOf(deployment.id)).status).toBe("CANCELLED");
  });

  it("a freeze over the chosen time refuses it, on the time field, unless ops give a reason; a freeze that ends before it does not", async () => {
    const f = await simulatedFleet(1);
    const r = await release(f);
    const now = await createFreeze(f.ops, { environmentId: f.environmentId, endsAt: inHours(2).toISOString(), reason: "Release party" });
    const later = await createFreeze(f.ops, { environmentId: f.environmentId, startsAt: inHours(24).toISOString(), endsAt: inHours(48).toISOString(), reason: "Black Friday" });
    const refused = await expectAppError(
      requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id, timing: "later", scheduledFor: inHours(30).toISOString() }),
      "PRECONDITION_FAILED",
      `Production is frozen until ${utc(later.endsAt)} (Black Friday). Ops may override with a reason.`,
    );
    expect(refused.fieldErrors).toEqual({ scheduledFor: ["A freeze covers this time: pick another, or give a freeze override reason."] });

    // Between the two freezes: allowed, and no override is recorded for the freeze that is on now.
    const between = inHours(5);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id, timing: "later", scheduledFor: between.toISOString(), freezeOverrideReason: "not needed" });
    expect(await deploymentOf(deployment.id)).toMatchObject({ status: "SCHEDULED", freezeOverrideReason: null });
    expect(now.id).not.toBe(later.id);
    await cancelDeployment(f.ops, { deploymentId: deployment.id });

    // Inside the planned freeze with ops' reason: scheduled, and the reason holds when it starts.
    const inside = inHours(30);
    const through = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id, timing: "later", scheduledFor: inside.toISOString(), freezeOverrideReason: "Payment fix, CTO approved" });
    expect(await deploymentOf(through.deployment.id)).toMatchObject({ status: "SCHEDULED", freezeOverrideReason: "Payment fix, CTO approved" });
    expect(await startScheduledDeployment(through.deployment.id, new Date(inside.getTime() + 1_000))).toBe("QUEUED");
  });
});

describe("when a scheduled deployment is due, the gates are checked again", () => {
  it("a release rejected after it was scheduled does not start: it ends failed with the reason, audited, nothing touched, people told", async () => {
    const f = await releaseFlow();
    const { release: r } = await releaseInAcceptance(f);
    await recordVerdict(f.customer, { releaseId: r.id, verdict: "ACCEPTED", artifactSha256: r.artifactSha256 });
    await approveRelease(f.approver, { releaseId: r.id, artifactSha256: r.artifactSha256 });
    const at = inHours(3);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.env.production.id, releaseId: r.id, timing: "later", scheduledFor: at.toISOString() });

    // Not due yet: nothing happens.
    expect(await startScheduledDeployment(deployment.id, new Date(at.getTime() - 1_000))).toBeNull();
    await recordVerdict(f.customer, { releaseId: r.id, verdict: "REJECTED", reason: "Invoices round wrongly", artifactSha256: r.artifactSha256 });
    // The deploy panel says so before the time comes.
    const options = await deployOptions(f.ops, { environmentId: f.env.production.id });
    expect(options.scheduled?.blockers.map((b) => b.code)).toEqual(["REJECTED"]);

    expect(await startScheduledDeployment(deployment.id, new Date(at.getTime() + 1_000))).toBe("FAILED");
    const why = `At its scheduled time the gates no longer held: ${r.version} was rejected by ${f.customer.name}: Invoices round wrongly. Next: its developers upload a fixed release candidate. No server was changed.`;
    expect(await deploymentOf(deployment.id)).toMatchObject({ status: "FAILED", startedAt: null, failureReason: why, steps: [] });
    expect(await tryClaim(f.agents.production)).toBeNull();
    const events = await db.auditEvent.findMany({ where: { objectId: deployment.id }, orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.type, e.actorLabel])).toEqual([
      ["DEPLOYMENT_REQUESTED", f.ops.email],
      ["DEPLOYMENT_FAILED", "system: rollout engine"],
    ]);
    expect(events[1]).toMatchObject({ releaseId: r.id, before: { status: "SCHEDULED", scheduledFor: at.toISOString() }, after: { status: "FAILED", failureReason: why, blockers: ["REJECTED"], artifactSha256: r.artifactSha256 } });
    // Once is enough: a second sweep finds nothing to do.
    expect(await startScheduledDeployment(deployment.id, new Date(at.getTime() + 5_000))).toBeNull();

    await onDeploymentFinished(deployment.id); // the sweep's call after the refusal

    const told = await db.notification.findMany({ where: { kind: "deployment.failed", link: `/deployments/${deployment.id}` } });
    expect(told.map((n) => n.userId).sort()).toEqual([f.dev.id, f.ops.id].sort());
    expect(told[0]?.body).toBe(why);
    expect(await db.notification.count({ where: { kind: "deployment.started", link: `/deployments/${deployment.id}` } })).toBe(0);
  });

  it("a freeze created after it was scheduled, over its time, stops it; a passing one starts and rolls out", async () => {
    const f = await simulatedFleet(1);
    const r = await release(f);
    const at = inHours(10);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id, timing: "later", scheduledFor: at.toISOString() });
    const freeze = await createFreeze(f.ops, { environmentId: f.environmentId, startsAt: inHours(9).toISOString(), endsAt: inHours(11).toISOString(), reason: "Marketing launch" });
    expect(await startScheduledDeployment(deployment.id, new Date(at.getTime() + 1_000))).toBe("FAILED");
    expect((await deploymentOf(deployment.id)).failureReason).toBe(
      `At its scheduled time the gates no longer held: Production is frozen until ${utc(freeze.endsAt)} (Marketing launch). Ops may override with a reason. No server was changed.`,
    );

    const next = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id, timing: "later", scheduledFor: inHours(1).toISOString() });
    expect(await startScheduledDeployment(next.deployment.id, inHours(1.01))).toBe("QUEUED");
  });

  it("the person who scheduled it must still be allowed to deploy there: a role taken away or an account disabled stops it", async () => {
    const f = await simulatedFleet(1);
    const r = await release(f);
    const at = inHours(2);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id, timing: "later", scheduledFor: at.toISOString() });
    const membership = await db.membership.findFirstOrThrow({ where: { applicationId: f.tenant.application.id, userId: f.ops.id, role: "OPS" } });
    await revokeRole(f.tenant.admin, { membershipId: membership.id });
    expect(await startScheduledDeployment(deployment.id, new Date(at.getTime() + 1_000))).toBe("FAILED");
    expect((await deploymentOf(deployment.id)).failureReason).toBe(
      `At its scheduled time the gates no longer held: ${f.ops.name}, who scheduled it, may no longer deploy to Production. Only ops may deploy to Production. No server was changed.`,
    );

    const other = await simulatedFleet(1);
    const second = await requestDeployment(other.ops, { environmentId: other.environmentId, releaseId: (await release(other)).id, timing: "later", scheduledFor: at.toISOString() });
    await db.user.update({ where: { id: other.ops.id }, data: { status: "DISABLED" } });
    expect(await startScheduledDeployment(second.deployment.id, new Date(at.getTime() + 1_000))).toBe("FAILED");
    expect((await deploymentOf(second.deployment.id)).failureReason).toContain(`${other.ops.name}, who scheduled it, may no longer deploy to Production (their account is disabled).`);
  });

  it("a scheduled deployment that passes still needs its production gates at the time: accepted and approved releases start", async () => {
    const f = await releaseFlow();
    const { release: r } = await releaseInAcceptance(f);
    await recordVerdict(f.customer, { releaseId: r.id, verdict: "ACCEPTED", artifactSha256: r.artifactSha256 });
    await approveRelease(f.approver, { releaseId: r.id, artifactSha256: r.artifactSha256 });
    const at = inHours(1);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.env.production.id, releaseId: r.id, timing: "later", scheduledFor: at.toISOString() });
    expect((await deployOptions(f.ops, { environmentId: f.env.production.id })).scheduled).toEqual({ deploymentId: deployment.id, blockers: [] });
    expect(await startScheduledDeployment(deployment.id, new Date(at.getTime() + 1_000))).toBe("QUEUED");
    await advanceRollout(deployment.id); // what the sweep does next
    expect(await driveToEnd(f, "production", deployment.id)).toMatchObject({ status: "SUCCEEDED" });
    await settleBackgroundWork();
  });
});
