// The release procedure for integration tests, with real deployments: an application with the default lifecycle
// (QA -> Acceptance -> Production: production needs a customer's acceptance and one approval), one person per
// role, and one enrolled server per environment whose agent the test plays through the same domain functions the
// agent API calls (as lib/rollouts/rollout-engine.int.test.ts does), so deployments really succeed.
import { authenticateAgent, type AuthenticatedAgent } from "../lib/agents/authenticate-agent";
import { tryClaim } from "../lib/agents/claim-job";
import { enrollAgent } from "../lib/agents/enroll-agent";
import { recordHeartbeat } from "../lib/agents/record-heartbeat";
import { reportStep } from "../lib/agents/report-step";
import type { UserActor } from "../lib/auth/actor";
import { db } from "../lib/db/client";
import { requestDeployment, type TRequestDeploymentRequest } from "../lib/deployments/request-deployment";
import { addTarget } from "../lib/targets/add-target";
import { createMember, createReleaseRow, createTenant, environmentsOf, testContext, uniq } from "./factories";

export type Flow = Awaited<ReturnType<typeof releaseFlow>>;
type EnvName = "qa" | "acceptance" | "production";

export async function releaseFlow() {
  const tenant = await createTenant();
  const [dev, customer, approver, ops] = await Promise.all([
    createMember(tenant, "DEVELOPER"),
    createMember(tenant, "CUSTOMER", { customerSide: true }),
    createMember(tenant, "APPROVER"),
    createMember(tenant, "OPS"),
  ]);
  const [qa, acceptance, production] = (await environmentsOf(tenant.application.id)) as [Env, Env, Env];
  await db.environment.update({ where: { id: acceptance.id }, data: { url: "https://acceptance.shop.example.test" } });
  const agents = {} as Record<EnvName, AuthenticatedAgent>;
  for (const [name, env] of [["qa", qa], ["acceptance", acceptance], ["production", production]] as const) {
    const { enrollmentToken } = await addTarget(ops, { environmentId: env.id, name: `${name}-1` });
    const { agentSecret } = await enrollAgent({ token: enrollmentToken, hostname: `${name}-1`, agentVersion: "test" }, testContext());
    agents[name] = await authenticateAgent(`Bearer ${agentSecret}`, testContext());
  }
  return { tenant, dev, customer, approver, ops, env: { qa, acceptance, production }, agents };
}
type Env = Awaited<ReturnType<typeof environmentsOf>>[number];

/** A release candidate uploaded by the flow's developer (or `uploadedById`). */
export const uploadRelease = (flow: Flow, uploadedById = flow.dev.id) =>
  createReleaseRow({ applicationId: flow.tenant.application.id, uploadedById, version: uniq("1.0") });

/** Plays the environment's agent, every job succeeding, until the deployment ends; returns it. */
export async function driveToEnd(flow: Flow, envName: EnvName, deploymentId: string) {
  const agent = flow.agents[envName];
  for (let round = 0; round < 30; round++) {
    const d = await db.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(d.status)) return d;
    const job = await tryClaim(agent);
    if (!job) continue;
    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "RUNNING", phase: "working" });
    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "SUCCEEDED" });
  }
  throw new Error("deployment did not finish");
}

/** Deploys a release to one of the flow's environments as `actor` and plays its agent until the rollout ends. */
export async function deploy(
  flow: Flow,
  actor: UserActor,
  envName: EnvName,
  releaseId: string,
  extra: Partial<Pick<TRequestDeploymentRequest, "freezeOverrideReason" | "reason">> = {},
) {
  // Keep the servers online however long the test has run (a server is offline after 35 s of silence).
  for (const agent of Object.values(flow.agents)) {
    const live = (await db.target.findUniqueOrThrow({ where: { id: agent.targetId } })).liveReleaseId;
    await recordHeartbeat(agent, { agentVersion: "test", hostname: agent.label, liveReleaseId: live, stagedReleaseIds: [] });
  }
  const { deployment } = await requestDeployment(actor, { environmentId: flow.env[envName].id, releaseId, ...extra });
  return driveToEnd(flow, envName, deployment.id);
}

/** A candidate deployed successfully to QA and then to Acceptance, ready for the customer's test. */
export async function releaseInAcceptance(flow: Flow) {
  const release = await uploadRelease(flow);
  await deploy(flow, flow.dev, "qa", release.id);
  const deployment = await deploy(flow, flow.dev, "acceptance", release.id);
  return { release, deployment };
}
