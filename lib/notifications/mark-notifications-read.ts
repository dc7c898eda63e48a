import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { notFound } from "../errors";
import { parseInput } from "../validation";

export const ZMarkNotificationsReadRequestSchema = z.object({
  /** One notification; absent = all of the actor's unread ones. */
  notificationId: z.uuid("Pick a notification.").optional(),
});
export type TMarkNotificationsReadRequest = z.input<typeof ZMarkNotificationsReadRequestSchema>;

/**
 * Marks the actor's own notifications read. Someone else's notification is NOT_FOUND. Marking read is idempotent
 * and is the person's own view state, not a change to the release procedure, so it leaves no audit event (as
 * lastSeenAt of a session does not).
 */
export async function markNotificationsRead(actor: UserActor, raw: TMarkNotificationsReadRequest): Promise<{ marked: number }> {
  const input = parseInput(ZMarkNotificationsReadRequestSchema, raw);
  if (input.notificationId) {
    const own = await db.notification.findFirst({ where: { id: input.notificationId, userId: actor.id }, select: { id: true } });
    if (!own) throw notFound("Notification");
  }
  const { count } = await db.notification.updateMany({
    where: { userId: actor.id, readAt: null, ...(input.notificationId ? { id: input.notificationId } : {}) },
    data: { readAt: new Date() },
  });
  return { marked: count };
}
