import "server-only";
import { db } from "../db/client";
import { log } from "../log";
import { backoffMs, DELIVERY_HEADER, EVENT_HEADER, MAX_DELIVERY_ATTEMPTS, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from "./webhook-signature";

/** A receiver must answer within this; a slow one counts as a failed attempt. */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** While an attempt runs its row is leased this long: another instance takes it over only if this one died. */
const LEASE_MS = 60_000;
const CONCURRENCY = 8;

export interface DeliveryOutcome {
  deliveryId: string;
  attempt: number;
  ok: boolean;
  /** "HTTP 500", "timeout", "connection refused"…; null on success. */
  error: string | null;
}

/**
 * Sends the webhook deliveries that are due (never delivered, under the attempt limit, next attempt reached), each
 * signed (webhook-signature.ts) and retried with exponential backoff after a failure. Called right after an event
 * is published (for its own deliveries) and every few seconds by the notification timer on every instance: a
 * conditional claim on the row's next-attempt time makes exactly one caller send each attempt.
 * `now` lets tests step through the retry schedule without waiting for it.
 */
export async function deliverDueWebhooks(options: { now?: Date; ids?: readonly string[]; limit?: number } = {}): Promise<DeliveryOutcome[]> {
  const now = options.now ?? new Date();
  const due = await db.webhookDelivery.findMany({
    where: {
      deliveredAt: null,
      attempts: { lt: MAX_DELIVERY_ATTEMPTS },
      nextAttemptAt: { lte: now },
      webhook: { active: true },
      ...(options.ids ? { id: { in: [...options.ids] } } : {}),
    },
    orderBy: { nextAttemptAt: "asc" },
    take: options.limit ?? 50,
    include: { webhook: { select: { id: true, url: true, secret: true } } },
  });
  const outcomes: DeliveryOutcome[] = [];
  for (let i = 0; i < due.length; i += CONCURRENCY) {
    const batch = await Promise.all(due.slice(i, i + CONCURRENCY).map((d) => attempt(d, now)));
    for (const o of batch) if (o) outcomes.push(o);
  }
  return outcomes;
}

type Due = Awaited<ReturnType<typeof db.webhookDelivery.findMany>>[number] & { webhook: { id: string; url: string; secret: string } };

async function attempt(d: Due, now: Date): Promise<DeliveryOutcome | null> {
  // Claim this attempt: only the caller that moves nextAttemptAt from the value it read gets to send.
  const claimed = await db.webhookDelivery.updateMany({
    where: { id: d.id, deliveredAt: null, nextAttemptAt: d.nextAttemptAt, attempts: d.attempts },
    data: { attempts: { increment: 1 }, nextAttemptAt: new Date(now.getTime() + LEASE_MS) },
  });
  if (claimed.count !== 1) return null;
  const number = d.attempts + 1;
  const body = JSON.stringify(d.payload);
  const timestamp = Math.floor(Date.now() / 1000);
  let error: string | null = null;
  try {
    const res = await fetch(d.webhook.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "Releasegate-Webhooks/1",
        [EVENT_HEADER]: d.event,
        [DELIVERY_HEADER]: d.id,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(d.webhook.secret, timestamp, body),
      },
      body,
      // A redirect is not followed (the signed body would go somewhere nobody configured); it counts as a failure.
      redirect: "manual",
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
  } catch (e) {
    error = describeFailure(e);
  }
  const host = safeHost(d.webhook.url);
  if (!error) {
    await db.webhookDelivery.update({ where: { id: d.id }, data: { deliveredAt: new Date(), lastError: null } });
    log.info({ webhookId: d.webhook.id, deliveryId: d.id, event: d.event, attempt: number, host }, "webhook delivered");
    return { deliveryId: d.id, attempt: number, ok: true, error: null };
  }
  const last = number >= MAX_DELIVERY_ATTEMPTS;
  await db.webhookDelivery.update({
    where: { id: d.id },
    data: {
      lastError: last ? `${error} (gave up after ${number} attempts)` : error,
      nextAttemptAt: new Date(now.getTime() + backoffMs(number)),
    },
  });
  log.warn({ webhookId: d.webhook.id, deliveryId: d.id, event: d.event, attempt: number, host, error, givenUp: last }, "webhook delivery failed");
  return { deliveryId: d.id, attempt: number, ok: false, error };
}

/** A failure in words a person can act on; the URL is left out (it may carry a credential of the receiver). */
function describeFailure(e: unknown): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`;
  const cause = e instanceof Error && e.cause && typeof e.cause === "object" ? (e.cause as { code?: unknown; message?: unknown }) : null;
  if (cause?.code === "ECONNREFUSED") return "connection refused";
  if (cause?.code === "ENOTFOUND") return "host not found";
  if (typeof cause?.code === "string") return `network error (${cause.code})`;
  return "network error";
}

function safeHost(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
