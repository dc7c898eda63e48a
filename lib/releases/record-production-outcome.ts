import "server-only";
import type { Tx } from "../db/client";

/** The statuses this outcome gave, by release id: recorded in the deployment's audit event. */
export type ProductionOutcome = Record<string, "RELEASED" | "REVERTED" | "SUPERSEDED">;

/**
 * Keeps Release.status true to what production runs, in the transaction that records a production deployment's (or
 * revert's) success (lib/rollouts/advance-rollout.ts): its release is live there (RELEASED, also a reverted release
 * deployed again), and the release it replaced, unless another production environment still runs it, was taken out:
 * REVERTED by a revert, SUPERSEDED by a deployment. The same answer load-production-state.ts gives from the records
 * (production-state.ts), and the release list filters on it through its index. Returns the statuses it set, which
 * the caller's audit event of the deployment's success records (the same transaction).
 */
export async function recordProductionOutcome(
  tx: Tx,
  // releaseId null: a revert to a build Releasegate did not deploy (nothing of ours is live there then).
  d: { id: string; kind: "DEPLOY" | "REVERT"; releaseId: string | null; environmentId: string; applicationId: string },
): Promise<ProductionOutcome> {
  // Production successes of one application take turns here: two environments replacing the same release at once
  // must each see the other's outcome, or neither would mark it.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`release-production-state:${d.applicationId}`}))`;
  if (d.releaseId) await tx.release.update({ where: { id: d.releaseId }, data: { status: "RELEASED" } });
  const outcome: ProductionOutcome = d.releaseId ? { [d.releaseId]: "RELEASED" } : {};
  const before = await tx.deployment.findFirst({
    where: { environmentId: d.environmentId, status: "SUCCEEDED", id: { not: d.id } },
    orderBy: [{ finishedAt: "desc" }, { createdAt: "desc" }],
    select: { releaseId: true },
  });
  if (!before?.releaseId || before.releaseId === d.releaseId) return outcome;
  const otherProductions = await tx.environment.findMany({ where: { applicationId: d.applicationId, isProduction: true, id: { not: d.environmentId } }, select: { id: true } });
  for (const e of otherProductions) {
    const live = await tx.deployment.findFirst({
      where: { environmentId: e.id, status: "SUCCEEDED" },
      orderBy: [{ finishedAt: "desc" }, { createdAt: "desc" }],
      select: { releaseId: true },
    });
    if (live?.releaseId === before.releaseId) return outcome;
  }
  const status = d.kind === "REVERT" ? "REVERTED" : "SUPERSEDED";
  const moved = await tx.release.updateMany({ where: { id: before.releaseId, status: "RELEASED" }, data: { status } });
  return moved.count === 1 ? { ...outcome, [before.releaseId]: status } : outcome;
}
