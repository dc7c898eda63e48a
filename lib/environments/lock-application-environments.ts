import "server-only";
import type { Tx } from "../db/client";

/**
 * Serialises changes to one application's lifecycle order (create, reorder, delete) until the transaction ends.
 * Each of them reads every position and then rewrites some; two at once would otherwise deadlock, collide on the
 * unique position, or let the later one silently undo the earlier. Call it before reading the positions.
 * NO KEY UPDATE rather than UPDATE: rows that only reference the application (releases, memberships) are not held up.
 */
export async function lockApplicationEnvironments(tx: Tx, applicationId: string): Promise<void> {
  await tx.$executeRaw`SELECT 1 FROM "Application" WHERE id = ${applicationId}::uuid FOR NO KEY UPDATE`;
}
