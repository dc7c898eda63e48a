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
  /** Null: a revert to the builds the servers ran before Releasegate. */
  releaseId: string | null;
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

export type RevertTarget =
  | {
      kind: "release";
      /** The release running now (what the revert takes out). */
      fromReleaseId: string;
      /** The release the revert returns to. */
      releaseId: string;
      /** Where the revert's own result sits in the history: what a further revert returns to. */
      returnToDeploymentId: string | null;
    }
  | {
      /**
       * Back past Releasegate's first release: each server returns to the build another tool had installed before
       * Releasegate switched it (still on disk). `missing`: servers with no such build (a revert is refused then).
       */
      kind: "earlier-builds";
      fromReleaseId: string;
      servers: { targetId: string; name: string; path: string }[];
      missing: string[];
      returnToDeploymentId: null;
    };

/**
 * What a revert of the environment returns to now: the release that ran before the running one; past the first
 * release, the builds the servers ran before Releasegate took them over (what the fleet reported); or null when
 * there is nothing earlier. Entries of the running release itself are passed over, so neither a redeploy nor a
 * history written before this chain existed makes a release its own predecessor.
 */
export async function revertTargetOf(tx: Tx, environmentId: string): Promise<RevertTarget | null> {
  const live = await liveEntry(tx, environmentId);
  if (!live?.releaseId) return null; // nothing deployed, or already back on the earlier builds
  const fromReleaseId = live.releaseId;
  let at = live.returnToDeploymentId;
  for (let steps = 0; at !== null; steps++) {
    if (steps >= MAX_STEPS) return null;
    const entry = await tx.deployment.findUnique({ where: { id: at }, select: ENTRY });
    if (!entry) return null;
    if (entry.releaseId === null) break; // an earlier revert to the builds from before Releasegate: back there
    if (entry.releaseId !== fromReleaseId) return { kind: "release", fromReleaseId, releaseId: entry.releaseId, returnToDeploymentId: entry.returnToDeploymentId };
    at = entry.returnToDeploymentId;
  }
  const targets = await tx.target.findMany({ where: { environmentId, status: "ACTIVE" }, orderBy: [{ name: "asc" }, { id: "asc" }], select: { id: true, name: true, takenOverFromPath: true } });
  const servers = targets.flatMap((t) => (t.takenOverFromPath ? [{ targetId: t.id, name: t.name, path: t.takenOverFromPath }] : []));
  if (servers.length === 0) return null;
  return { kind: "earlier-builds", fromReleaseId, servers, missing: targets.filter((t) => !t.takenOverFromPath).map((t) => t.name), returnToDeploymentId: null };
}
