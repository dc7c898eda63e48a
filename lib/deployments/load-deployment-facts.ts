import "server-only";
import type { UserActor } from "../auth/actor";
import type { Tx } from "../db/client";
import type { Role } from "../db/generated/enums";
import type { DeploymentFacts } from "../releases/policy";

/**
 * Loads what lib/releases/policy.ts decides on, for one release, environment and actor (anyone with roles: a
 * person, a pipeline's token, or the person who scheduled a deployment, as they stand now). `at` is when the
 * deployment would start, for the freeze that covers it: now, or a scheduled time.
 */
export async function loadDeploymentFacts(
  tx: Tx,
  actor: Pick<UserActor, "roles">,
  input: {
    kind: "DEPLOY" | "REVERT";
    environment: DeploymentFacts["environment"] & { id: string; applicationId: string; position: number };
    release: DeploymentFacts["release"] & { id: string };
    freezeOverrideReason: string | null;
    at?: Date;
  },
): Promise<DeploymentFacts> {
  const { environment: env, release } = input;
  const at = input.at ?? new Date();
  // Sequential on purpose: inside a transaction every query shares one connection, which runs one at a time.
  const previousEnvironment = await tx.environment.findFirst({ where: { applicationId: env.applicationId, position: { lt: env.position } }, orderBy: { position: "desc" }, select: { id: true, name: true } });
  const verdicts = await tx.acceptanceVerdict.findMany({
    where: { releaseId: release.id, user: { memberships: { some: { applicationId: env.applicationId, role: "CUSTOMER" } } } },
    orderBy: { createdAt: "asc" },
    include: { user: { select: { name: true } } },
  });
  const approvals = await tx.approval.findMany({
    where: { releaseId: release.id, environmentId: env.id },
    include: { user: { select: { memberships: { where: { applicationId: env.applicationId }, select: { role: true } } } } },
  });
  const freeze = await tx.freeze.findFirst({ where: { environmentId: env.id, startsAt: { lte: at }, endsAt: { gt: at } }, orderBy: { endsAt: "desc" } });
  const succeededInPreviousEnvironment = previousEnvironment
    ? (await tx.deployment.count({ where: { environmentId: previousEnvironment.id, releaseId: release.id, kind: "DEPLOY", status: "SUCCEEDED" } })) > 0
    : false;
  return {
    kind: input.kind,
    actorRoles: actor.roles.get(env.applicationId) ?? new Set<Role>(),
    environment: env,
    previousEnvironment,
    release,
    succeededInPreviousEnvironment,
    verdicts: verdicts.map((v) => ({ verdict: v.verdict, artifactSha256: v.artifactSha256, userId: v.userId, reason: v.reason, userName: v.user.name })),
    approvals: approvals.map((a) => ({ artifactSha256: a.artifactSha256, userId: a.userId, roles: new Set(a.user.memberships.map((m) => m.role)) })),
    activeFreeze: freeze ? { reason: freeze.reason, endsAt: freeze.endsAt } : null,
    freezeOverrideReason: input.freezeOverrideReason,
  };
}
