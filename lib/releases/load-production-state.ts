import "server-only";
import type { Tx } from "../db/client";
import { type ProductionEnvironmentHistory, type ProductionState, productionState } from "./production-state";

/**
 * A release's production state (production-state.ts) from the deployment records: per production environment of its
 * application, its last successful arrival and the first success after it. Two indexed reads per production
 * environment. Null when the application has no production environment.
 */
export async function loadProductionState(
  tx: Tx,
  releaseId: string,
  environments: readonly { id: string; name: string; isProduction: boolean }[],
): Promise<ProductionState | null> {
  const productions = environments.filter((e) => e.isProduction);
  if (productions.length === 0) return null;
  const histories = await Promise.all(
    productions.map(async (e): Promise<ProductionEnvironmentHistory> => {
      const environment = { id: e.id, name: e.name };
      const arrived = await tx.deployment.findFirst({
        where: { environmentId: e.id, status: "SUCCEEDED", releaseId },
        orderBy: [{ finishedAt: "desc" }, { createdAt: "desc" }],
        select: { finishedAt: true },
      });
      if (!arrived?.finishedAt) return { environment, arrivedAt: null, takenOutBy: null };
      const next = await tx.deployment.findFirst({
        where: { environmentId: e.id, status: "SUCCEEDED", finishedAt: { gt: arrived.finishedAt } },
        orderBy: [{ finishedAt: "asc" }, { createdAt: "asc" }],
        select: { id: true, kind: true, finishedAt: true, reason: true, release: { select: { id: true, version: true } }, requestedBy: { select: { name: true } } },
      });
      return {
        environment,
        arrivedAt: arrived.finishedAt,
        takenOutBy: next?.finishedAt ? { ...next, finishedAt: next.finishedAt } : null,
      };
    }),
  );
  return productionState(histories);
}
