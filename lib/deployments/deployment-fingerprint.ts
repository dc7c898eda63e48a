import "server-only";
import { db } from "../db/client";
import { isActiveDeployment } from "./rollout-progress";

/**
 * A cheap summary of a deployment that changes whenever it, one of its steps or a step's log changes: how a live
 * view knows whether what it shows is current. Read it BEFORE the data it stands for, so a change in between makes
 * the two differ (and the view reads again) rather than hiding the change.
 */
export async function deploymentFingerprint(deploymentId: string): Promise<{ key: string; active: boolean }> {
  const [row] = await db.$queryRaw<{ status: string; updated: Date; steps: bigint; stepsUpdated: Date | null; logs: bigint | null }[]>`
    SELECT d.status::text AS status, d."updatedAt" AS updated, count(s.id) AS steps, max(s."updatedAt") AS "stepsUpdated", sum(s."logSeq") AS logs
    FROM "Deployment" d LEFT JOIN "DeploymentStep" s ON s."deploymentId" = d.id
    WHERE d.id = ${deploymentId}::uuid
    GROUP BY d.id`;
  if (!row) return { key: "gone", active: false };
  return {
    key: [row.status, row.updated.getTime(), row.steps, row.stepsUpdated?.getTime() ?? 0, row.logs ?? 0].join(":"),
    active: isActiveDeployment(row.status),
  };
}
