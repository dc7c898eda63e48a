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
  // One after the other: `tx` may be a transaction, one connection, which takes one query at a time (pg warns of a
  // query sent while another runs, and will refuse it).
  const histories: ProductionEnvironmentHistory[] = [];
  for (const e of productions) histories.push(await historyIn(tx, releaseId, e));
  return productionState(histories);
}

async function historyIn(tx: Tx, releaseId: string, e: { id: string; name: string }): Promise<ProductionEnvironmentHistory> {
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
  return { environment, arrivedAt: arrived.finishedAt, takenOutBy: next?.finishedAt ? { ...next, finishedAt: next.finishedAt } : null };
}
