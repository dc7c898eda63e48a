import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { parseInput } from "../validation";

export const ZListNotificationsRequestSchema = z.object({
  unreadOnly: z.boolean().default(false),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type TListNotificationsRequest = z.input<typeof ZListNotificationsRequestSchema>;

/** The actor's own inbox, newest first. Nobody reads another person's notifications, administrators included. */
export async function listNotifications(actor: UserActor, raw: TListNotificationsRequest = {}) {
  const input = parseInput(ZListNotificationsRequestSchema, raw);
  return db.notification.findMany({
    where: { userId: actor.id, ...(input.unreadOnly ? { readAt: null } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit,
    select: { id: true, kind: true, title: true, body: true, link: true, readAt: true, createdAt: true },
  });
}

/** How many notifications the actor has not read yet (for the navigation's badge). */
export async function countUnreadNotifications(actor: Pick<UserActor, "id">): Promise<number> {
  return db.notification.count({ where: { userId: actor.id, readAt: null } });
}
