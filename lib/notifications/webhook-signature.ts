// How webhook deliveries are signed, and how a receiver checks them (docs/webhooks.md shows the same in a few
// lines). The signature is HMAC-SHA256, keyed with the webhook's secret, over "<timestamp>.<raw body>"; the
// timestamp (Unix seconds) travels in its own header and is part of what is signed, so a receiver that refuses old
// timestamps also refuses a captured delivery replayed later.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Releasegate-Signature";
export const TIMESTAMP_HEADER = "X-Releasegate-Timestamp";
export const EVENT_HEADER = "X-Releasegate-Event";
export const DELIVERY_HEADER = "X-Releasegate-Delivery";

/** Receivers should refuse deliveries whose timestamp is further than this from their clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The X-Releasegate-Signature value for a body sent at `timestamp` (Unix seconds): "sha256=<hex>". */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** Whether a delivery is authentic and fresh: the signature matches and the timestamp is within the tolerance. */
export function verifyWebhookSignature(input: {
  secret: string;
  body: string;
  timestamp: string | number | null | undefined;
  signature: string | null | undefined;
  toleranceSeconds?: number;
  nowMs?: number;
}): boolean {
  const timestamp = Number(input.timestamp);
  if (!Number.isInteger(timestamp) || !input.signature) return false;
  const now = Math.floor((input.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - timestamp) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(signWebhook(input.secret, timestamp, input.body));
  const given = Buffer.from(input.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Retry schedule after failed attempt number `attempt` (1-based): 30 s, 2 min, 8 min, 32 min, ~2 h, ~8.5 h, then 12 h,
 * each stretched by up to 10% at random so a receiver that comes back is not hit by every retry at once. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000 * 4 ** Math.max(0, attempt - 1), 12 * 60 * 60_000);
  return Math.round(base * (1 + 0.1 * random()));
}

/** Attempts before a delivery is given up (about a day of retries). */
export const MAX_DELIVERY_ATTEMPTS = 8;
