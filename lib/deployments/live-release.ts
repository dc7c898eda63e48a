import "server-only";
import type { Tx } from "../db/client";

/**
 * What an environment runs: the release of its last successful deployment (a deploy or a revert), and the release
 * that deployment replaced (what a revert returns to). Nodes report what they actually run; the difference is drift.
 */
export async function liveReleaseOf(tx: Tx, environmentId: string): Promise<{ releaseId: string; previousReleaseId: string | null } | null> {
  const last = await tx.deployment.findFirst({
    where: { environmentId, status: "SUCCEEDED" },
    orderBy: [{ finishedAt: "desc" }, { createdAt: "desc" }],
    select: { releaseId: true, previousReleaseId: true },
  });
  return last;
}
