import "server-only";
import { PERMISSIONS } from "../auth/permissions";
import type { Tx } from "../db/client";
import type { Role } from "../db/generated/enums";

/**
 * The active people who may approve releases for `env`: members holding one of its approverRoles that the permission
 * matrix lets approve at all (an environment may name a role, such as developers, that can never approve). The
 * uploader of a given release is among them if they hold such a role: callers leave them out (separation of duties).
 */
export async function eligibleApprovers(tx: Tx, env: { applicationId: string; approverRoles: readonly Role[] }): Promise<string[]> {
  const approving: readonly Role[] = PERMISSIONS["release.approve"].roles;
  const roles = env.approverRoles.filter((r) => approving.includes(r));
  if (roles.length === 0) return [];
  const rows = await tx.membership.findMany({
    where: { applicationId: env.applicationId, role: { in: roles }, user: { status: "ACTIVE" } },
    select: { userId: true },
  });
  return [...new Set(rows.map((r) => r.userId))];
}
