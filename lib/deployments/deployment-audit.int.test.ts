// Deployments leave exactly one audit event per action, each by the right actor: the person (or pipeline) who
// asked, the agent that reported a step, the rollout engine that moved the deployment on. Listed in
// lib/audit/audit-coverage.int.test.ts.
import { describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createMember, createReleaseRow, createTenant, environmentsOf, testContext } from "../../test/factories";
import { authenticateAgent } from "../agents/authenticate-agent";
import { tryClaim } from "../agents/claim-job";
import { enrollAgent } from "../agents/enroll-agent";
import { recordHeartbeat } from "../agents/record-heartbeat";
import { reportStep } from "../agents/report-step";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { addTarget } from "../targets/add-target";
import { cancelDeployment } from "./cancel-deployment";
import { requestDeployment } from "./request-deployment";
import { requestRevert } from "./request-revert";

async function setup() {
  const tenant = await createTenant();
  const ops = await createMember(tenant, "OPS");
  const dev = await createMember(tenant, "DEVELOPER");
  const env = (await environmentsOf(tenant.application.id))[2]!;
  await db.environment.update({ where: { id: env.id }, data: { requiresPreviousSuccess: false, requiresAcceptance: false, requiredApprovals: 0 } });
  const { enrollmentToken } = await addTarget(ops, { environmentId: env.id, name: "web-1" });
  const { agentSecret } = await enrollAgent({ token: enrollmentToken, hostname: "h", agentVersion: "t" }, testContext());
  const agent = await authenticateAgent(`Bearer ${agentSecret}`, testContext());
  await recordHeartbeat(agent, { agentVersion: "t", hostname: "h", liveReleaseId: null, stagedReleaseIds: [] });
  const release = (version: string) => createReleaseRow({ applicationId: tenant.application.id, uploadedById: dev.id, version });
  return { tenant, ops, dev, env, agent, release };
}

const inRequest = (actor: UserActor) => {
  const ctx = testContext();
  return { actor: { ...actor, ctx }, ctx };
};
const typesOf = async (requestId: string) => (await db.auditEvent.findMany({ where: { requestId }, orderBy: { seq: "asc" } })).map((e) => e.type);

describe("deployment actions write exactly one event each", () => {
  it("requestDeployment by the person; the engine's start by the system; each step result by the agent", async () => {
    const s = await setup();
    const r = await s.release("1.0.0");
    const { actor, ctx } = inRequest(s.ops);
    const { deployment } = await requestDeployment(actor, { environmentId: s.env.id, releaseId: r.id, reason: "weekly release" });
    expect(await typesOf(ctx.requestId)).toEqual(["DEPLOYMENT_REQUESTED"]);
    const requested = await db.auditEvent.findFirstOrThrow({ where: { requestId: ctx.requestId } });
    expect(requested).toMatchObject({ actorType: "USER", actorId: s.ops.id, objectId: deployment.id, releaseId: r.id, environmentId: s.env.id, applicationId: s.tenant.application.id });
    expect(requested.after).toMatchObject({ version: "1.0.0", artifactSha256: r.artifactSha256, reason: "weekly release" });

    const started = await db.auditEvent.findMany({ where: { objectId: deployment.id, type: "DEPLOYMENT_STARTED" } });
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ actorType: "SYSTEM", actorLabel: "system: rollout engine" });

    const job = (await tryClaim(s.agent))!;
    const agentCtx = testContext();
    const agent = { ...s.agent, ctx: agentCtx };
    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "RUNNING" });
    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "SUCCEEDED" });
    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "SUCCEEDED" }); // a retry writes nothing
    expect(await typesOf(agentCtx.requestId)).toEqual(["DEPLOYMENT_STEP_FINISHED"]);
    const step = await db.auditEvent.findFirstOrThrow({ where: { requestId: agentCtx.requestId } });
    expect(step).toMatchObject({ actorType: "AGENT", actorId: s.agent.targetId, objectId: job.stepId });
    expect(step.after).toMatchObject({ status: "SUCCEEDED", action: "STAGE", artifactSha256: r.artifactSha256 });
  });

  it("cancelDeployment: one event; a second cancel is refused and writes nothing", async () => {
    const s = await setup();
    const { deployment } = await requestDeployment(s.ops, { environmentId: s.env.id, releaseId: (await s.release("1.0.0")).id });
    const first = inRequest(s.ops);
    await cancelDeployment(first.actor, { deploymentId: deployment.id });
    expect(await typesOf(first.ctx.requestId)).toEqual(["DEPLOYMENT_CANCEL_REQUESTED"]);
    const again = inRequest(s.ops);
    await expectAppError(cancelDeployment(again.actor, { deploymentId: deployment.id }), "CONFLICT");
    expect(await typesOf(again.ctx.requestId)).toEqual([]);
  });

  it("requestRevert: one event with before and after builds; refusals write none but the denial", async () => {
    const s = await setup();
    const v1 = await s.release("1.0.0");
    const v2 = await s.release("2.0.0");
    for (const r of [v1, v2]) {
      await requestDeployment(s.ops, { environmentId: s.env.id, releaseId: r.id });
      for (;;) {
        const job = await tryClaim(s.agent);
        if (!job) break;
        await reportStep(s.agent, job.stepId, { leaseId: job.leaseId, status: "SUCCEEDED" });
      }
    }
    const denied = inRequest(s.dev);
    await expectAppError(requestRevert(denied.actor, { environmentId: s.env.id, reason: "x" }), "FORBIDDEN");
    expect(await typesOf(denied.ctx.requestId)).toEqual([]);
    const { actor, ctx } = inRequest(s.ops);
    await requestRevert(actor, { environmentId: s.env.id, reason: "2.0.0 breaks checkout" });
    expect(await typesOf(ctx.requestId)).toEqual(["REVERT_REQUESTED"]);
    const e = await db.auditEvent.findFirstOrThrow({ where: { requestId: ctx.requestId } });
    expect(e.before).toMatchObject({ version: "2.0.0", artifactSha256: v2.artifactSha256 });
    expect(e.after).toMatchObject({ version: "1.0.0", artifactSha256: v1.artifactSha256, reason: "2.0.0 breaks checkout" });
  });

  it("a deployment's request and its event roll back together when the request is refused by a gate; the refusal is what is recorded", async () => {
    const s = await setup();
    await db.environment.update({ where: { id: s.env.id }, data: { requiresAcceptance: true } });
    const r = await s.release("1.0.0");
    const { actor, ctx } = inRequest(s.ops);
    await expectAppError(requestDeployment(actor, { environmentId: s.env.id, releaseId: r.id }), "PRECONDITION_FAILED", "1.0.0 needs a customer's acceptance before Production.");
    expect(await db.deployment.count({ where: { releaseId: r.id } })).toBe(0);
    // No DEPLOYMENT_REQUESTED: the refusal itself, in a transaction of its own, for the release's evidence.
    expect(await typesOf(ctx.requestId)).toEqual(["DEPLOYMENT_REFUSED"]);
  });
});
