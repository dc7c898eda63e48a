import "server-only";
import { db } from "../db/client";
import type { Role } from "../db/generated/enums";
import { eligibleApprovers } from "../approvals/eligible-approvers";

/** The active people holding any of `roles` on the application. */
export async function membersWithRoles(applicationId: string, roles: readonly Role[]): Promise<string[]> {
  if (roles.length === 0) return [];
  const rows = await db.membership.findMany({
    where: { applicationId, role: { in: [...roles] }, user: { status: "ACTIVE" } },
    select: { userId: true },
  });
  return [...new Set(rows.map((r) => r.userId))];
}

/** The people who may approve a release for `gate` (lib/approvals/eligible-approvers.ts), never its uploader. */
export async function approversOf(applicationId: string, gate: { approverRoles: readonly Role[] }, uploadedById: string): Promise<string[]> {
  return (await eligibleApprovers(db, { applicationId, approverRoles: gate.approverRoles })).filter((id) => id !== uploadedById);
}

/**
 * The people who work on a release: its uploader, the creator of the pipeline token that uploaded it (recorded as its
 * uploader so far; named here so that stays true), and every developer of the application.
 */
export async function peopleWorkingOn(release: { applicationId: string; uploadedById: string; uploadedViaTokenId: string | null }): Promise<string[]> {
  const [developers, token] = await Promise.all([
    membersWithRoles(release.applicationId, ["DEVELOPER"]),
    release.uploadedViaTokenId ? db.apiToken.findUnique({ where: { id: release.uploadedViaTokenId }, select: { createdById: true } }) : null,
  ]);
  return [...new Set([release.uploadedById, ...(token ? [token.createdById] : []), ...developers])];
}

/** Links the notifications point at. */
export const links = {
  /** The focused "review this release" page: verdicts, approvals and what changed. */
  review: (applicationId: string, releaseId: string) => `/apps/${applicationId}/releases/${releaseId}/decide`,
  application: (applicationId: string) => `/apps/${applicationId}`,
  deployment: (deploymentId: string) => `/deployments/${deploymentId}`,
};
