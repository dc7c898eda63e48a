import "server-only";
import type { Tx } from "../db/client";

// An environment's history as a revert walks it. Every successful deployment (deploy or revert) leaves a result
// running; each points (Deployment.returnToDeploymentId) at the result that ran before it, so the results form a
// stack that reverts pop:
//   deploy A, B, C            C -> B -> A        revert returns to B, then to A, then there is nothing earlier
//   deploy B again over B     replaces B's entry (it points where B did): a redeploy is not its own predecessor
//   deploy A again after B    A' -> B -> A       revert returns to B: what actually ran before
// A failed or cancelled deployment changes nothing here: its rollback returned the servers to what ran.

/** Walking more entries than this means the chain is damaged (a cycle); the revert is then refused, not looped. */
const MAX_STEPS = 1000;

interface Entry {
  id: string;
  releaseId: string;
  returnToDeploymentId: string | null;
}

const ENTRY = { id: true, releaseId: true, returnToDeploymentId: true } as const;

/** The result running in the environment: its newest successful deployment, or null before the first. */
async function liveEntry(tx: Tx, environmentId: string): Promise<Entry | null> {
  return tx.deployment.findFirst({ where: { environmentId, status: "SUCCEEDED" }, orderBy: [{ finishedAt: "desc" }, { createdAt: "desc" }], select: ENTRY });
}

/** Where a new deployment of `releaseId` goes in the history: on top of what runs, or in its place when it is the same release. */
export async function returnToForDeployment(tx: Tx, environmentId: string, releaseId: string): Promise<string | null> {
  const live = await liveEntry(tx, environmentId);
  if (!live) return null;
  return live.releaseId === releaseId ? live.returnToDeploymentId : live.id;
}

export interface RevertTarget {
  /** The release running now (what the revert takes out). */
  fromReleaseId: string;
  /** The release the revert returns to. */
  releaseId: string;
  /** Where the revert's own result sits in the history: what a further revert returns to. */
  returnToDeploymentId: string | null;
}

/**
 * What a revert of the environment returns to now: the release that ran before the running one, or null when there
 * is nothing earlier (or no deployment yet). Entries of the running release itself are passed over, so neither a
 * redeploy nor a history written before this chain existed makes a release its own predecessor.
 */
export async function revertTargetOf(tx: Tx, environmentId: string): Promise<RevertTarget | null> {
  const live = await liveEntry(tx, environmentId);
  if (!live) return null;
  let at = live.returnToDeploymentId;
  for (let steps = 0; at !== null && steps < MAX_STEPS; steps++) {
    const entry = await tx.deployment.findUnique({ where: { id: at }, select: ENTRY });
    if (!entry) return null;
    if (entry.releaseId !== live.releaseId) return { fromReleaseId: live.releaseId, releaseId: entry.releaseId, returnToDeploymentId: entry.returnToDeploymentId };
    at = entry.returnToDeploymentId;
  }
  return null;
}
