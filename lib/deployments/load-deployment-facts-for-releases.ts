import "server-only";
import { eligibleApprovers } from "../approvals/eligible-approvers";
import type { UserActor } from "../auth/actor";
import type { Tx } from "../db/client";
import type { Role } from "../db/generated/enums";
import type { DeploymentFacts } from "../releases/policy";

export interface FactsRequest {
  kind: "DEPLOY" | "REVERT";
  environment: DeploymentFacts["environment"] & { id: string; applicationId: string; position: number };
  /** Releases of the environment's application. */
  releases: readonly (DeploymentFacts["release"] & { id: string })[];
  freezeOverrideReason: string | null;
  /** When the deployment would start, for the freeze that covers it: now (the default), or a scheduled time. */
  at?: Date;
}

/**
 * What lib/releases/policy.ts decides on, for several releases going to one environment by one actor: the facts
 * loadDeploymentFacts gives for each, in six queries however many releases are asked about. The deploy form weighs
 * the newest releases of every environment and the home page every promotion candidate; one query set per release
 * made those pages grow with the list (six round trips each).
 * Keyed by release id; every requested release has an entry.
 */
export async function loadDeploymentFactsForReleases(tx: Tx, actor: Pick<UserActor, "roles">, input: FactsRequest): Promise<Map<string, DeploymentFacts>> {
  const { environment: env } = input;
  const ids = [...new Set(input.releases.map((r) => r.id))];
  const at = input.at ?? new Date();
  // Sequential on purpose: inside a transaction every query shares one connection, which runs one at a time.
  const previousEnvironment = await tx.environment.findFirst({ where: { applicationId: env.applicationId, position: { lt: env.position } }, orderBy: { position: "desc" }, select: { id: true, name: true } });
  // Only verdicts by customer members of the application count (a role taken away takes the verdict's weight too).
  const verdicts = await tx.acceptanceVerdict.findMany({
    where: { releaseId: { in: ids }, user: { memberships: { some: { applicationId: env.applicationId, role: "CUSTOMER" } } } },
    orderBy: { createdAt: "asc" },
    include: { user: { select: { name: true } } },
  });
  const approvals = await tx.approval.findMany({
    where: { releaseId: { in: ids }, environmentId: env.id },
    include: { user: { select: { memberships: { where: { applicationId: env.applicationId }, select: { role: true } } } } },
  });
  const approverIds = env.requiredApprovals > 0 ? await eligibleApprovers(tx, env) : [];
  const freeze = await tx.freeze.findFirst({ where: { environmentId: env.id, startsAt: { lte: at }, endsAt: { gt: at } }, orderBy: { endsAt: "desc" } });
  const succeeded = previousEnvironment
    ? await tx.deployment.findMany({
        where: { environmentId: previousEnvironment.id, releaseId: { in: ids }, kind: "DEPLOY", status: "SUCCEEDED" },
        distinct: ["releaseId"],
        select: { releaseId: true },
      })
    : [];
  const succeededIds = new Set(succeeded.map((d) => d.releaseId));
  const actorRoles = actor.roles.get(env.applicationId) ?? new Set<Role>();
  const activeFreeze = freeze ? { reason: freeze.reason, endsAt: freeze.endsAt } : null;

  const facts = new Map<string, DeploymentFacts>();
  for (const release of input.releases) {
    facts.set(release.id, {
      kind: input.kind,
      actorRoles,
      environment: env,
      previousEnvironment,
      release,
      succeededInPreviousEnvironment: succeededIds.has(release.id),
      verdicts: verdicts
        .filter((v) => v.releaseId === release.id)
        .map((v) => ({ verdict: v.verdict, artifactSha256: v.artifactSha256, userId: v.userId, reason: v.reason, userName: v.user.name })),
      approvals: approvals.filter((a) => a.releaseId === release.id).map((a) => ({ artifactSha256: a.artifactSha256, userId: a.userId, roles: new Set(a.user.memberships.map((m) => m.role)) })),
      approverIds,
      activeFreeze,
      freezeOverrideReason: input.freezeOverrideReason,
    });
  }
  return facts;
}
