import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { backoffMs, MAX_DELIVERY_ATTEMPTS, signWebhook, verifyWebhookSignature } from "./webhook-signature";

const secret = "rgw_test-secret";
const body = JSON.stringify({ id: "release.accepted:1", type: "release.accepted" });
const now = 1_800_000_000_000;
const ts = now / 1000;

describe("webhook signatures", () => {
  it("is HMAC-SHA256 of '<timestamp>.<body>' with the secret, as any receiver can compute it", () => {
    const independent = createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex");
    expect(signWebhook(secret, ts, body)).toBe(`sha256=${independent}`);
  });

  it("verifies an authentic, fresh delivery", () => {
    expect(verifyWebhookSignature({ secret, body, timestamp: String(ts), signature: signWebhook(secret, ts, body), nowMs: now })).toBe(true);
    expect(verifyWebhookSignature({ secret, body, timestamp: ts, signature: signWebhook(secret, ts, body), nowMs: now + 299_000 })).toBe(true);
  });

  it("refuses another secret, a changed body, a moved timestamp, a stale or missing one", () => {
    const sig = signWebhook(secret, ts, body);
    expect(verifyWebhookSignature({ secret: "other", body, timestamp: ts, signature: sig, nowMs: now })).toBe(false);
    expect(verifyWebhookSignature({ secret, body: body.replace("accepted", "rejected"), timestamp: ts, signature: sig, nowMs: now })).toBe(false);
    expect(verifyWebhookSignature({ secret, body, timestamp: ts + 1, signature: sig, nowMs: now })).toBe(false);
    expect(verifyWebhookSignature({ secret, body, timestamp: ts, signature: sig, nowMs: now + 301_000 })).toBe(false);
    expect(verifyWebhookSignature({ secret, body, timestamp: null, signature: sig, nowMs: now })).toBe(false);
    expect(verifyWebhookSignature({ secret, body, timestamp: ts, signature: "sha256=00", nowMs: now })).toBe(false);
    expect(verifyWebhookSignature({ secret, body, timestamp: ts, signature: undefined, nowMs: now })).toBe(false);
  });
});

describe("backoffMs", () => {
  it("grows fourfold from 30 s, with at most 10% jitter, and is capped at 12 h", () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, () => 0))).toEqual([30_000, 120_000, 480_000, 1_920_000]);
    expect(backoffMs(1, () => 1)).toBe(33_000);
    expect(backoffMs(20, () => 0)).toBe(12 * 60 * 60_000);
    expect(MAX_DELIVERY_ATTEMPTS).toBeGreaterThan(3);
  });
});
