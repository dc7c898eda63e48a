import "server-only";
import { db } from "../db/client";
import type { Role } from "../db/generated/enums";

/** The active people holding any of `roles` on the application. */
export async function membersWithRoles(applicationId: string, roles: readonly Role[]): Promise<string[]> {
  if (roles.length === 0) return [];
  const rows = await db.membership.findMany({
    where: { applicationId, role: { in: [...roles] }, user: { status: "ACTIVE" } },
    select: { userId: true },
  });
  return [...new Set(rows.map((r) => r.userId))];
}

/** Links the notifications point at. */
export const links = {
  /** The focused "review this release" page: verdicts, approvals and what changed. */
  review: (applicationId: string, releaseId: string) => `/apps/${applicationId}/releases/${releaseId}/decide`,
  application: (applicationId: string) => `/apps/${applicationId}`,
  deployment: (deploymentId: string) => `/deployments/${deploymentId}`,
};
