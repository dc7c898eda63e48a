import "server-only";
import type { UserActor } from "../auth/actor";
import { assertCan } from "../auth/permissions";
import { db } from "../db/client";

/** Every customer with its applications and user counts: the admin's overview. */
export async function listCustomers(actor: UserActor) {
  assertCan(actor, "customer.update");
  return db.customer.findMany({
    orderBy: { name: "asc" },
    include: {
      applications: { orderBy: { name: "asc" }, select: { id: true, name: true, slug: true } },
      _count: { select: { users: true } },
    },
  });
}
