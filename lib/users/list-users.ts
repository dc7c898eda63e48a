import "server-only";
import type { UserActor } from "../auth/actor";
import { assertCan } from "../auth/permissions";
import { db } from "../db/client";

/** Every account with its customer and roles: the admin's user list. */
export async function listUsers(actor: UserActor) {
  assertCan(actor, "user.update");
  return db.user.findMany({
    orderBy: [{ status: "asc" }, { name: "asc" }],
    select: {
      id: true,
      name: true,
      email: true,
      status: true,
      isPlatformAdmin: true,
      mustChangePassword: true,
      lastSignInAt: true,
      customer: { select: { id: true, name: true } },
      memberships: {
        orderBy: { application: { name: "asc" } },
        select: { id: true, role: true, application: { select: { id: true, name: true } } },
      },
    },
  });
}
