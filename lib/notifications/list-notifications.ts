import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { parseInput } from "../validation";
import { resolveAsks } from "./resolve-asks";

export const ZListNotificationsRequestSchema = z.object({
  unreadOnly: z.boolean().default(false),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type TListNotificationsRequest = z.input<typeof ZListNotificationsRequestSchema>;

/**
 * The actor's own inbox, newest first. Nobody reads another person's notifications, administrators included. Each
 * one that asks for work on a release says whether that is done or moot now (`resolved`), worked out from the
 * release's current state: nobody has to mark it read for it to stop asking.
 */
export async function listNotifications(actor: UserActor, raw: TListNotificationsRequest = {}) {
  const input = parseInput(ZListNotificationsRequestSchema, raw);
  const rows = await db.notification.findMany({
    where: { userId: actor.id, ...(input.unreadOnly ? { readAt: null } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit,
    select: { id: true, userId: true, kind: true, title: true, body: true, link: true, readAt: true, createdAt: true, ask: true, releaseId: true },
  });
  const resolved = await resolveAsks(rows);
  return rows.map(({ userId: _userId, ...n }, i) => ({ ...n, resolved: resolved[i] ?? null }));
}

/** How many notifications want the actor's attention (the navigation's badge): unread, and not asking for work that is done or moot. */
export async function countUnreadNotifications(actor: Pick<UserActor, "id">): Promise<number> {
  const [informing, asking] = await Promise.all([
    db.notification.count({ where: { userId: actor.id, readAt: null, ask: null } }),
    // Bounded: a badge shows "99+" beyond that anyway.
    db.notification.findMany({ where: { userId: actor.id, readAt: null, ask: { not: null } }, orderBy: { createdAt: "desc" }, take: 200, select: { userId: true, ask: true, releaseId: true } }),
  ]);
  const resolved = await resolveAsks(asking);
  return informing + resolved.filter((r) => r === null).length;
}
