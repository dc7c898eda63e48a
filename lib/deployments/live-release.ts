import "server-only";
import type { Tx } from "../db/client";

/**
 * What an environment runs: the release of its last successful deployment (a deploy or a revert), and the release
 * that deployment replaced. Null before the first deployment, and after a revert to the builds the servers ran
 * before Releasegate (no release of this application runs). Nodes report what they actually run; the difference is
 * drift. What a revert returns to is revert-target.ts's answer, not previousReleaseId.
 */
export async function liveReleaseOf(tx: Tx, environmentId: string): Promise<{ releaseId: string; previousReleaseId: string | null } | null> {
  const last = await tx.deployment.findFirst({
    where: { environmentId, status: "SUCCEEDED" },
    orderBy: [{ finishedAt: "desc" }, { createdAt: "desc" }],
    select: { releaseId: true, previousReleaseId: true },
  });
  return last?.releaseId ? { releaseId: last.releaseId, previousReleaseId: last.previousReleaseId } : null;
}
