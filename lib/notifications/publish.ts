import "server-only";
import { db, type Tx } from "../db/client";
import type { Prisma } from "../db/generated/client";
import type { NotificationAsk } from "../db/generated/enums";
import { runInBackground } from "./background";
import { deliverDueWebhooks } from "./deliver-webhooks";
import type { NotificationEventType } from "./event-types";
import { publicUrl } from "./public-url";
import { sendEmail } from "./send-email";

/** What one group of people is told about an event, in the inbox and by email. */
export interface Audience {
  recipientIds: readonly (string | null | undefined)[];
  title: string;
  body: string;
  /** A page of the control plane, e.g. /deployments/<id>. */
  link: string;
  /** What this audience is asked to do about a release; the inbox shows when that is done or moot (resolve-asks.ts). */
  ask?: { kind: NotificationAsk; releaseId: string };
}

export interface OutgoingEvent {
  /**
   * Names this occurrence, e.g. "deployment.succeeded:<deployment id>". Webhook receivers get it as the payload's
   * `id` (to drop duplicates on their side), and publishing the same id again creates no second delivery.
   */
  id: string;
  type: NotificationEventType;
  applicationId: string;
  occurredAt: Date;
  /** Each person is told once per event: someone in two audiences hears the first one's message. */
  audiences: readonly Audience[];
  /** The people whose own action this was: they are not told about it. */
  excludeIds?: readonly (string | null | undefined)[];
  /**
   * For events that may be published more than once (deployment events: the rollout engine and the catch-up sweep
   * both report them): skip people already told of this kind with this link, and webhooks that already have a
   * delivery of this id. INVARIANT: each audience's link is then unique to the occurrence (it names the
   * deployment). Events published exactly once, after the commit that made them, leave it unset and save the lookups.
   */
  idempotent?: boolean;
  /** The webhook payload beyond id, type and occurredAt. */
  data: Record<string, unknown>;
}

const present = (ids: readonly (string | null | undefined)[]) => ids.filter((id): id is string => typeof id === "string");

/**
 * A delivery of a later event that this webhook has already been sent (or is being sent), if any. Takes the
 * webhook's row lock first, as claiming a delivery does (deliver-webhooks.ts): either the claim sees this event's
 * delivery as the earlier one and waits for it, or this sees the claimed one here.
 */
async function laterEventAlreadySent(tx: Tx, webhookId: string, occurredAt: Date) {
  await tx.$queryRaw`SELECT id FROM "Webhook" WHERE id = ${webhookId}::uuid FOR NO KEY UPDATE`;
  return tx.webhookDelivery.findFirst({
    where: { webhookId, occurredAt: { gt: occurredAt }, skippedAt: null, OR: [{ deliveredAt: { not: null } }, { attempts: { gt: 0 } }] },
    orderBy: { occurredAt: "desc" },
    select: { event: true, occurredAt: true },
  });
}

/**
 * Tells the people concerned and the application's subscribed webhooks about an event: one in-app notification per
 * recipient and one delivery row per webhook, written in one transaction; then, after commit and without waiting,
 * an email per new notification and a first delivery attempt (retries come from the rows: deliver-webhooks.ts).
 * Only active users are notified, and only webhooks that existed when the event happened; each webhook gets its
 * events in the order they happened. Call it after the change it reports has committed.
 */
export async function publish(event: OutgoingEvent): Promise<{ notificationIds: string[]; deliveryIds: string[] }> {
  const excluded = new Set(present(event.excludeIds ?? []));
  const { notifications, deliveryIds } = await db.$transaction(async (tx) => {
    // Two publishers of the same occurrence (two instances, the engine and the sweep) take turns, so the checks
    // below see each other's rows.
    if (event.idempotent) await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${event.id}))`;
    const wanted = [...new Set(event.audiences.flatMap((a) => present(a.recipientIds)))].filter((id) => !excluded.has(id));
    const users = wanted.length
      ? await tx.user.findMany({ where: { id: { in: wanted }, status: "ACTIVE" }, select: { id: true, email: true } })
      : [];
    const emailOf = new Map(users.map((u) => [u.id, u.email]));
    const told = new Set<string>();
    const rows: Prisma.NotificationCreateManyInput[] = [];
    for (const audience of event.audiences) {
      let ids = [...new Set(present(audience.recipientIds))].filter((id) => emailOf.has(id) && !told.has(id));
      ids.forEach((id) => told.add(id));
      if (event.idempotent && ids.length > 0) {
        const already = await tx.notification.findMany({
          where: { userId: { in: ids }, kind: event.type, link: audience.link },
          select: { userId: true },
        });
        const skip = new Set(already.map((n) => n.userId));
        ids = ids.filter((id) => !skip.has(id));
      }
      for (const userId of ids) {
        rows.push({ userId, kind: event.type, title: audience.title, body: audience.body, link: audience.link, ask: audience.ask?.kind ?? null, releaseId: audience.ask?.releaseId ?? null });
      }
    }
    const created = rows.length ? await tx.notification.createManyAndReturn({ data: rows, select: { id: true, userId: true, title: true, body: true, link: true } }) : [];

    // Only webhooks that existed when the event happened: one added later must not be sent the past (the catch-up
    // after a restart publishes recent events again).
    const hooks = await tx.webhook.findMany({
      where: { applicationId: event.applicationId, active: true, events: { has: event.type }, createdAt: { lte: event.occurredAt } },
      select: { id: true },
      orderBy: { id: "asc" },
    });
    const payload = { id: event.id, type: event.type, occurredAt: event.occurredAt.toISOString(), ...event.data } as Prisma.InputJsonObject;
    const ids: string[] = [];
    for (const hook of hooks) {
      if (event.idempotent) {
        const existing = await tx.webhookDelivery.findFirst({ where: { webhookId: hook.id, event: event.type, payload: { path: ["id"], equals: event.id } }, select: { id: true } });
        if (existing) continue;
      }
      const late = await laterEventAlreadySent(tx, hook.id, event.occurredAt);
      const data = { webhookId: hook.id, event: event.type, payload, occurredAt: event.occurredAt };
      if (late) {
        // Each webhook gets its events in the order they happened. This one comes too late for that (published after
        // a restart, say, when a later event had already gone out): it is kept, marked not sent, with the reason.
        await tx.webhookDelivery.create({
          data: { ...data, skippedAt: new Date(), lastError: `Not sent: a later event (${late.event} of ${late.occurredAt.toISOString()}) was already delivered, and events are never delivered out of order.` },
        });
        continue;
      }
      ids.push((await tx.webhookDelivery.create({ data, select: { id: true } })).id);
    }
    return { notifications: created.map((n) => ({ ...n, email: emailOf.get(n.userId)! })), deliveryIds: ids };
  });

  for (const n of notifications) {
    runInBackground(`email ${event.type}`, () =>
      sendEmail({
        to: n.email,
        subject: n.title,
        text: `${n.body}\n\n${publicUrl(n.link ?? "/inbox")}\n\nYou receive this because of your role on the application in Releasegate. Your inbox: ${publicUrl("/inbox")}`,
        userId: n.userId,
        kind: event.type,
      }),
    );
  }
  if (deliveryIds.length > 0) runInBackground(`webhooks ${event.type}`, () => deliverDueWebhooks({ ids: deliveryIds }));
  return { notificationIds: notifications.map((n) => n.id), deliveryIds };
}
