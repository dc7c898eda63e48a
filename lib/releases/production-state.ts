// Where a release stands in production, worked out from the deployment records (which stay the record): live there
// now, taken out by a revert (when, by whom, why, back to which release), replaced by a deployment of another release,
// or never there. Pure, so every path is unit-tested (production-state.test.ts); loaded by load-production-state.ts
// for the release, review and evidence pages, and kept in Release.status by record-production-outcome.ts.

export interface ProductionTakeOut {
  /** The deployment (or revert) whose success took the release out. */
  id: string;
  kind: "DEPLOY" | "REVERT";
  finishedAt: Date;
  /** What production ran from then on; null for a build Releasegate did not deploy (a server's earlier build). */
  release: { id: string; version: string } | null;
  requestedBy: { name: string } | null;
  reason: string;
}

/** One production environment's part of a release's story. */
export interface ProductionEnvironmentHistory {
  environment: { id: string; name: string };
  /** The release's last successful arrival there (a deployment, or a revert back to it); null if it never ran there. */
  arrivedAt: Date | null;
  /** The first successful deployment there after that arrival, which took it out; null while it still runs there. */
  takenOutBy: ProductionTakeOut | null;
}

export type ProductionState =
  | { state: "live"; environments: { id: string; name: string }[] }
  | {
      state: "reverted" | "superseded";
      environment: { id: string; name: string };
      at: Date;
      /** Who asked for the revert or the deployment; null for a build pipeline without a person. */
      by: string | null;
      reason: string;
      /** What production runs since; null for a build Releasegate did not deploy. */
      to: { id: string; version: string } | null;
      deploymentId: string;
    }
  | { state: "never" };

/**
 * Live in any production environment wins (an application may have several); otherwise the latest take-out says how
 * it left: by a revert, or replaced by a deployment of another release (superseded, not reverted).
 */
export function productionState(histories: readonly ProductionEnvironmentHistory[]): ProductionState {
  const live = histories.filter((h) => h.arrivedAt !== null && h.takenOutBy === null).map((h) => h.environment);
  if (live.length > 0) return { state: "live", environments: live };
  const out = histories
    .filter((h): h is ProductionEnvironmentHistory & { takenOutBy: ProductionTakeOut } => h.arrivedAt !== null && h.takenOutBy !== null)
    .sort((a, b) => b.takenOutBy.finishedAt.getTime() - a.takenOutBy.finishedAt.getTime())[0];
  if (!out) return { state: "never" };
  const t = out.takenOutBy;
  return {
    state: t.kind === "REVERT" ? "reverted" : "superseded",
    environment: out.environment,
    at: t.finishedAt,
    by: t.requestedBy?.name ?? null,
    reason: t.reason,
    to: t.release,
    deploymentId: t.id,
  };
}

/** The Release.status a production state implies; null = it never was in production (the procedure's status stands). */
export function productionStatus(state: ProductionState): "RELEASED" | "REVERTED" | "SUPERSEDED" | null {
  switch (state.state) {
    case "live":
      return "RELEASED";
    case "reverted":
      return "REVERTED";
    case "superseded":
      return "SUPERSEDED";
    case "never":
      return null;
  }
}
