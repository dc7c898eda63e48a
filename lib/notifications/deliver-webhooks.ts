import "server-only";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { db } from "../db/client";
import { log } from "../log";
import { type CheckedAddress, ForbiddenDestination, resolveWebhookDestination } from "./webhook-destination";
import { backoffMs, DELIVERY_HEADER, EVENT_HEADER, MAX_DELIVERY_ATTEMPTS, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from "./webhook-signature";

/** A receiver must answer within this; a slow one counts as a failed attempt. */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** While an attempt runs its row is leased this long: another instance takes it over only if this one died. */
const LEASE_MS = 60_000;
/** Webhooks served at once; each one's deliveries go one after another. */
const CONCURRENCY = 8;

export interface DeliveryOutcome {
  deliveryId: string;
  attempt: number;
  ok: boolean;
  /** What the people managing the webhook see: "HTTP 500", "Could not deliver: no HTTP answer"…; null on success. */
  error: string | null;
}

// INVARIANT: each webhook receives its events in the order they happened (WebhookDelivery.occurredAt, then creation
// order), one at a time. Only a webhook's head, its earliest delivery neither delivered, given up nor skipped, may
// be sent; a head that is retrying (or leased by an instance that died) holds back everything after it. A claim
// re-checks, under the webhook's row lock, that its delivery is still the head, and publish.ts takes the same lock
// before adding a delivery, so a late earlier event and a claim of a later one cannot cross.

// On globalThis: the code Next bundles and the modules scripts/start.ts loads are separate module instances, and
// both publish events.
const hold = globalThis as unknown as { releasegateWebhooksHeld?: boolean };

/**
 * Holds every delivery of this process until releaseWebhookDeliveries: the notification timer holds them from the
 * start until its first catch-up has published what a previous run of the process owed (events it committed but
 * never published), so those go out in their place instead of after newer ones.
 */
export function holdWebhookDeliveries(): void {
  hold.releasegateWebhooksHeld = true;
}

export function releaseWebhookDeliveries(): void {
  hold.releasegateWebhooksHeld = false;
}

/**
 * Sends the webhook deliveries that are due, each webhook's in event order (see the INVARIANT above), each signed
 * (webhook-signature.ts) and retried with exponential backoff after a failure. Called right after an event is
 * published (`ids`: its own deliveries, sent only if they are their webhook's head) and every few seconds by the
 * notification timer on every instance: a conditional claim makes exactly one caller send each attempt. After a
 * success, the webhook's next delivery follows at once. `now` lets tests step through the retry schedule.
 */
export async function deliverDueWebhooks(options: { now?: Date; ids?: readonly string[]; limit?: number } = {}): Promise<DeliveryOutcome[]> {
  if (hold.releasegateWebhooksHeld) return [];
  // The time each step judges "due" by: now, at that step. A lane that ran a while must see deliveries published
  // meanwhile as due (a fixed start time hid them, and they waited for the timer's next tick).
  const clock = () => options.now ?? new Date();
  let budget = options.limit ?? 50;
  const heads = await dueHeads(clock(), { ids: options.ids, limit: budget });
  const outcomes: DeliveryOutcome[] = [];
  // One lane per webhook: its deliveries strictly one after another.
  const lane = async (deliveryId: string) => {
    let next: string | null = deliveryId;
    while (next && budget > 0) {
      budget--;
      const outcome = await attempt(next, clock());
      if (!outcome) return;
      outcomes.push(outcome);
      if (!outcome.ok) return;
      next = (await dueHeads(clock(), { webhookOf: outcome.deliveryId, limit: 1 }))[0] ?? null;
    }
  };
  for (let i = 0; i < heads.length; i += CONCURRENCY) await Promise.all(heads.slice(i, i + CONCURRENCY).map(lane));
  return outcomes;
}

/**
 * The heads (one per webhook) that are due, earliest first: all webhooks', those among `ids`, or the one of the
 * webhook that `webhookOf`'s delivery belongs to.
 */
async function dueHeads(now: Date, o: { ids?: readonly string[]; webhookOf?: string; limit: number }): Promise<string[]> {
  const at = now.toISOString();
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT h.id FROM (
      SELECT DISTINCT ON (d."webhookId") d.id, d."nextAttemptAt"
      FROM "WebhookDelivery" d JOIN "Webhook" w ON w.id = d."webhookId"
      WHERE d."deliveredAt" IS NULL AND d."skippedAt" IS NULL AND d.attempts < ${MAX_DELIVERY_ATTEMPTS} AND w.active
        AND (${o.webhookOf ?? null}::uuid IS NULL OR d."webhookId" = (SELECT "webhookId" FROM "WebhookDelivery" WHERE id = ${o.webhookOf ?? null}::uuid))
      ORDER BY d."webhookId", d."occurredAt", d."createdAt", d.id
    ) h
    WHERE h."nextAttemptAt" <= ${at}::timestamp(3) AND (${o.ids ? [...o.ids] : null}::uuid[] IS NULL OR h.id = ANY(${o.ids ? [...o.ids] : null}::uuid[]))
    ORDER BY h."nextAttemptAt"
    LIMIT ${o.limit}`;
  return rows.map((r) => r.id);
}

/** Claims the delivery if it is still its webhook's head and still as it was when due; null when someone else has it. */
async function claim(deliveryId: string, now: Date) {
  return db.$transaction(async (tx) => {
    const d = await tx.webhookDelivery.findUnique({ where: { id: deliveryId }, include: { webhook: { select: { id: true, url: true, secret: true, active: true } } } });
    if (!d || d.deliveredAt || d.skippedAt || d.attempts >= MAX_DELIVERY_ATTEMPTS || d.nextAttemptAt > now || !d.webhook.active) return null;
    await tx.$queryRaw`SELECT id FROM "Webhook" WHERE id = ${d.webhookId}::uuid FOR NO KEY UPDATE`;
    const head = await tx.webhookDelivery.findFirst({
      where: { webhookId: d.webhookId, deliveredAt: null, skippedAt: null, attempts: { lt: MAX_DELIVERY_ATTEMPTS } },
      orderBy: [{ occurredAt: "asc" }, { createdAt: "asc" }, { id: "asc" }],
      select: { id: true },
    });
    if (head?.id !== d.id) return null;
    // Only the caller that moves nextAttemptAt from the value it read gets to send.
    const claimed = await tx.webhookDelivery.updateMany({
      where: { id: d.id, deliveredAt: null, nextAttemptAt: d.nextAttemptAt, attempts: d.attempts },
      data: { attempts: { increment: 1 }, nextAttemptAt: new Date(now.getTime() + LEASE_MS) },
    });
    return claimed.count === 1 ? d : null;
  });
}

async function attempt(deliveryId: string, now: Date): Promise<DeliveryOutcome | null> {
  const d = await claim(deliveryId, now);
  if (!d) return null;
  const number = d.attempts + 1;
  const body = JSON.stringify(d.payload);
  const timestamp = Math.floor(Date.now() / 1000);
  const url = new URL(d.webhook.url);
  const context = { webhookId: d.webhook.id, deliveryId: d.id, event: d.event, attempt: number, host: url.host };
  let error: string | null = null;
  try {
    const status = await post(url, body, {
      "content-type": "application/json",
      "user-agent": "Releasegate-Webhooks/1",
      [EVENT_HEADER]: d.event,
      [DELIVERY_HEADER]: d.id,
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signWebhook(d.webhook.secret, timestamp, body),
    });
    // A redirect is not followed (the signed body would go somewhere nobody configured, maybe inside the network).
    if (status >= 300 && status < 400) error = `HTTP ${status}: redirects are not followed`;
    else if (status < 200 || status >= 300) error = `HTTP ${status}`;
  } catch (e) {
    error = describeFailure(e);
    // The whole story stays in the server log; the person managing the webhook sees only what cannot map a network.
    log.warn({ ...context, err: e }, "webhook request failed");
  }
  if (!error) {
    await db.webhookDelivery.update({ where: { id: d.id }, data: { deliveredAt: new Date(), lastError: null } });
    log.info(context, "webhook delivered");
    return { deliveryId: d.id, attempt: number, ok: true, error: null };
  }
  const last = number >= MAX_DELIVERY_ATTEMPTS;
  // The next try counts from when this attempt began (`now`), not from when it failed: a receiver that kept the
  // connection open until the timeout and a closed port leave the same row, so the log tells nothing of port states.
  await db.webhookDelivery.update({
    where: { id: d.id },
    data: {
      lastError: last ? `${error} (gave up after ${number} attempts)` : error,
      nextAttemptAt: new Date(now.getTime() + backoffMs(number)),
    },
  });
  log.warn({ ...context, error, givenUp: last }, "webhook delivery failed");
  return { deliveryId: d.id, attempt: number, ok: false, error };
}

/**
 * POSTs `body` to `url` and resolves with the response's status. The host is resolved and checked here, and the
 * socket connects to exactly the address that was checked (its lookup returns only that one), so a name that
 * changes its answer between the check and the connection (DNS rebinding) gains nothing. No connection pooling: each
 * request connects through that check.
 */
async function post(url: URL, body: string, headers: Record<string, string>): Promise<number> {
  const checked = await resolveWebhookDestination(url);
  const request = url.protocol === "https:" ? https.request : http.request;
  return new Promise<number>((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        agent: false,
        lookup: fixedLookup(checked),
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      },
      (res) => {
        // The status is all we need; the body is not read.
        res.destroy();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A resolver that answers every question with the one address that was checked. */
function fixedLookup(checked: CheckedAddress): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [{ address: checked.address, family: checked.family }]);
    else callback(null, checked.address, checked.family);
  }) as LookupFunction;
}

/**
 * A failure in words a person can act on, that does not map the network: a closed port, a silent one, a reset and
 * a service that is not HTTP all read the same ("no HTTP answer"), so webhooks cannot be used to scan ports. The URL
 * is left out (it may carry a credential of the receiver).
 */
function describeFailure(e: unknown): string {
  if (e instanceof ForbiddenDestination) return `Not sent: ${e.explanation}`;
  const code = e instanceof Error && "code" in e ? (e as { code?: unknown }).code : undefined;
  if (code === "ENOTFOUND" || code === "EAI_NONAME") return "Could not deliver: host not found";
  return "Could not deliver: no HTTP answer";
}
