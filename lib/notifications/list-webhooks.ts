import "server-only";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";
import { MAX_DELIVERY_ATTEMPTS } from "./webhook-signature";

/**
 * delivered; queued (not tried yet: due, or waiting for an earlier delivery to this webhook); retrying (tried, will
 * try again); failed (gave up); skipped (not sent: a later event had gone out first).
 */
export type DeliveryState = "delivered" | "queued" | "retrying" | "failed" | "skipped";

/** An application's webhooks (never their secrets) with their latest deliveries, for those who manage them. */
export async function listWebhooks(actor: UserActor, applicationId: string, options: { deliveries?: number } = {}) {
  if (!can(actor, "application.view", applicationId)) throw notFound("Application");
  assertCan(actor, "webhook.manage", applicationId);
  const hooks = await db.webhook.findMany({
    where: { applicationId },
    orderBy: { createdAt: "asc" },
    select: {
      id: true,
      url: true,
      events: true,
      active: true,
      createdAt: true,
      deliveries: {
        orderBy: { createdAt: "desc" },
        take: options.deliveries ?? 20,
        select: { id: true, event: true, attempts: true, nextAttemptAt: true, deliveredAt: true, skippedAt: true, lastError: true, createdAt: true },
      },
    },
  });
  return hooks.map((h) => ({
    ...h,
    deliveries: h.deliveries.map((d) => ({
      ...d,
      state: (d.deliveredAt
        ? "delivered"
        : d.skippedAt
          ? "skipped"
          : d.attempts >= MAX_DELIVERY_ATTEMPTS
            ? "failed"
            : d.attempts === 0
              ? "queued"
              : "retrying") as DeliveryState,
    })),
  }));
}
