// Outgoing webhooks against real PostgreSQL and a real HTTP receiver on loopback: management (ops and admins only,
// secret shown once), signed deliveries a receiver can verify with the secret alone, retries with exponential
// backoff after failures, and one delivery per event however often it is published.
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { testContext } from "../../test/factories";
import { type Flow, releaseFlow, releaseInAcceptance } from "../../test/release-flow";
import { recordVerdict } from "../approvals/record-verdict";
import { db } from "../db/client";
import { settleBackgroundWork } from "./background";
import { createWebhook } from "./create-webhook";
import { deleteWebhook } from "./delete-webhook";
import { deliverDueWebhooks } from "./deliver-webhooks";
import { listWebhooks } from "./list-webhooks";
import { onDeploymentFinished } from "./on-deployment-finished";
import { backoffMs, MAX_DELIVERY_ATTEMPTS, verifyWebhookSignature } from "./webhook-signature";

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback that records every request and answers what `respond` says (200 by default). */
class Receiver {
  readonly received: Received[] = [];
  respond: (r: Received) => number = () => 200;
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      this.received.push(r);
      res.writeHead(this.respond(r)).end("ok");
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  on(path: string) {
    return this.received.filter((r) => r.path === path);
  }
}

const receiver = new Receiver();
let base: string;
let flow: Flow;
let other: Flow;

beforeAll(async () => {
  base = await receiver.start();
  [flow, other] = await Promise.all([releaseFlow(), releaseFlow()]);
});

afterAll(async () => {
  await settleBackgroundWork();
  await receiver.stop();
});

/** Waits until `check` holds (deliveries are sent in the background right after an event). */
async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("managing webhooks", () => {
  it("ops add one and see its secret once; the record keeps the URL, never the secret; others are refused", async () => {
    const ops = { ...flow.ops, ctx: testContext() };
    const { webhook, secret } = await createWebhook(ops, { applicationId: flow.tenant.application.id, url: `${base}/managed`, events: ["release.accepted", "release.rejected"] });
    expect(secret).toMatch(/^rgw_[A-Za-z0-9_-]{43}$/);
    const events = await db.auditEvent.findMany({ where: { requestId: ops.ctx.requestId } });
    expect(events).toEqual([
      expect.objectContaining({ type: "WEBHOOK_CREATED", objectId: webhook.id, applicationId: flow.tenant.application.id, after: { url: `${base}/managed`, events: ["release.accepted", "release.rejected"] } }),
    ]);
    expect(JSON.stringify(events, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain(secret);
    const listed = await listWebhooks(flow.ops, flow.tenant.application.id);
    expect(listed.find((h) => h.id === webhook.id)).toMatchObject({ url: `${base}/managed`, deliveries: [] });
    expect(JSON.stringify(listed)).not.toContain(secret);

    // An administrator may too; developers, customers and another tenant's ops may not.
    await createWebhook(flow.tenant.admin, { applicationId: flow.tenant.application.id, url: `${base}/admin`, events: ["deployment.failed"] });
    await expectAppError(createWebhook(flow.dev, { applicationId: flow.tenant.application.id, url: `${base}/x`, events: ["release.accepted"] }), "FORBIDDEN");
    await expectAppError(listWebhooks(flow.customer, flow.tenant.application.id), "FORBIDDEN");
    await expectAppError(createWebhook(other.ops, { applicationId: flow.tenant.application.id, url: `${base}/x`, events: ["release.accepted"] }), "NOT_FOUND");
    await expectAppError(deleteWebhook(other.ops, { webhookId: webhook.id }), "NOT_FOUND");

    const badUrl = await expectAppError(createWebhook(flow.ops, { applicationId: flow.tenant.application.id, url: "ftp://example.test/x", events: ["release.accepted"] }), "INVALID_INPUT");
    expect(badUrl.fieldErrors?.url?.[0]).toMatch(/http:\/\/ or https:\/\//);
    const noEvents = await expectAppError(createWebhook(flow.ops, { applicationId: flow.tenant.application.id, url: `${base}/x`, events: [] }), "INVALID_INPUT");
    expect(noEvents.fieldErrors?.events).toEqual(["Choose at least one event to send."]);

    const remove = { ...flow.ops, ctx: testContext() };
    await deleteWebhook(remove, { webhookId: webhook.id });
    expect(await db.webhook.count({ where: { id: webhook.id } })).toBe(0);
    expect((await db.auditEvent.findMany({ where: { requestId: remove.ctx.requestId } })).map((e) => [e.type, e.objectId])).toEqual([["WEBHOOK_DELETED", webhook.id]]);
    await expectAppError(deleteWebhook(flow.ops, { webhookId: webhook.id }), "NOT_FOUND");
  });
});

describe("deliveries", () => {
  it("an acceptance is delivered signed: the receiver verifies it with the secret alone", async () => {
    const f = await releaseFlow();
    const { secret } = await createWebhook(f.ops, { applicationId: f.tenant.application.id, url: `${base}/signed`, events: ["release.accepted"] });
    const { release } = await releaseInAcceptance(f);
    const { verdict } = await recordVerdict(f.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    await eventually(() => receiver.on("/signed").length === 1, "the delivery");
    // The sender records the outcome once the receiver has answered.
    await settleBackgroundWork();

    const [got] = receiver.on("/signed");
    const h = got!.headers;
    expect(h["content-type"]).toBe("application/json");
    expect(h["x-releasegate-event"]).toBe("release.accepted");
    const timestamp = Number(h["x-releasegate-timestamp"]);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(30);
    // What a receiver in any language computes: HMAC-SHA256(secret, "<timestamp>.<raw body>").
    const expected = createHmac("sha256", secret).update(`${timestamp}.${got!.body}`).digest("hex");
    expect(h["x-releasegate-signature"]).toBe(`sha256=${expected}`);
    expect(verifyWebhookSignature({ secret, body: got!.body, timestamp: h["x-releasegate-timestamp"] as string, signature: h["x-releasegate-signature"] as string })).toBe(true);
    expect(verifyWebhookSignature({ secret: "rgw_someone-else", body: got!.body, timestamp, signature: h["x-releasegate-signature"] as string })).toBe(false);

    expect(JSON.parse(got!.body)).toEqual({
      id: `release.accepted:${verdict.id}`,
      type: "release.accepted",
      occurredAt: verdict.createdAt.toISOString(),
      application: { id: f.tenant.application.id, name: f.tenant.application.name },
      release: { id: release.id, version: release.version, sha256: release.artifactSha256, status: "ACCEPTED" },
      environment: { id: f.env.acceptance.id, name: "Acceptance", url: "https://acceptance.shop.example.test" },
      verdict: { id: verdict.id, verdict: "ACCEPTED", reason: "", artifactSha256: release.artifactSha256, by: { id: f.customer.id, name: f.customer.name } },
      url: expect.stringMatching(new RegExp(`/apps/${f.tenant.application.id}/releases/${release.id}/decide$`)),
    });
    const delivery = await db.webhookDelivery.findFirstOrThrow({ where: { webhook: { applicationId: f.tenant.application.id } } });
    expect(h["x-releasegate-delivery"]).toBe(delivery.id);
    expect(delivery).toMatchObject({ attempts: 1, lastError: null, deliveredAt: expect.any(Date) });
    const [listed] = await listWebhooks(f.ops, f.tenant.application.id);
    expect(listed?.deliveries.map((d) => [d.event, d.state])).toEqual([["release.accepted", "delivered"]]);
  });

  it("a receiver failing twice is retried with exponential backoff until it answers 2xx", async () => {
    const f = await releaseFlow();
    const { secret } = await createWebhook(f.ops, { applicationId: f.tenant.application.id, url: `${base}/flaky`, events: ["release.rejected"] });
    receiver.respond = (r) => (r.path === "/flaky" && receiver.on("/flaky").length <= 2 ? 503 : 200);
    try {
      const { release } = await releaseInAcceptance(f);
      await recordVerdict(f.customer, { releaseId: release.id, verdict: "REJECTED", reason: "Layout broken on mobile", artifactSha256: release.artifactSha256 });
      const row = () => db.webhookDelivery.findFirstOrThrow({ where: { webhook: { applicationId: f.tenant.application.id } } });

      // Attempt 1 runs right after the event; it fails and the next is scheduled ~30 s later.
      await eventually(async () => (await row()).lastError !== null, "the first attempt");
      const first = await row();
      expect(first).toMatchObject({ attempts: 1, deliveredAt: null, lastError: "HTTP 503" });
      const wait1 = first.nextAttemptAt.getTime() - first.createdAt.getTime();
      expect(wait1).toBeGreaterThanOrEqual(backoffMs(1, () => 0) - 5_000);
      expect(wait1).toBeLessThanOrEqual(backoffMs(1, () => 1) + 5_000);
      // Not due yet: the sweep leaves it alone.
      expect(await deliverDueWebhooks({ ids: [first.id] })).toEqual([]);

      // Attempt 2 at its time fails again: the wait grows fourfold.
      const at2 = first.nextAttemptAt;
      expect(await deliverDueWebhooks({ ids: [first.id], now: at2 })).toEqual([{ deliveryId: first.id, attempt: 2, ok: false, error: "HTTP 503" }]);
      const second = await row();
      const wait2 = second.nextAttemptAt.getTime() - at2.getTime();
      expect(wait2).toBeGreaterThanOrEqual(backoffMs(2, () => 0));
      expect(wait2).toBeLessThanOrEqual(backoffMs(2, () => 1));

      // Attempt 3 succeeds.
      expect(await deliverDueWebhooks({ ids: [first.id], now: second.nextAttemptAt })).toEqual([{ deliveryId: first.id, attempt: 3, ok: true, error: null }]);
      expect(await row()).toMatchObject({ attempts: 3, lastError: null, deliveredAt: expect.any(Date) });
      expect(await deliverDueWebhooks({ ids: [first.id], now: new Date(Date.now() + 86_400_000) })).toEqual([]);

      // Three requests of the same delivery and body, each signed afresh.
      const got = receiver.on("/flaky");
      expect(got).toHaveLength(3);
      expect(new Set(got.map((g) => g.headers["x-releasegate-delivery"])).size).toBe(1);
      expect(new Set(got.map((g) => g.body)).size).toBe(1);
      for (const g of got) {
        expect(verifyWebhookSignature({ secret, body: g.body, timestamp: g.headers["x-releasegate-timestamp"] as string, signature: g.headers["x-releasegate-signature"] as string })).toBe(true);
      }
      expect(JSON.parse(got[0]!.body)).toMatchObject({ type: "release.rejected", verdict: { reason: "Layout broken on mobile" } });
    } finally {
      receiver.respond = () => 200;
    }
  });

  it("gives up after the last attempt, saying so; an unreachable receiver is a readable error", async () => {
    const f = await releaseFlow();
    // A port nothing listens on: connection refused.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/gone`;
    await new Promise((r) => closed.close(r));
    await createWebhook(f.ops, { applicationId: f.tenant.application.id, url: deadUrl, events: ["release.accepted"] });
    const { release } = await releaseInAcceptance(f);
    await recordVerdict(f.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    const row = () => db.webhookDelivery.findFirstOrThrow({ where: { webhook: { applicationId: f.tenant.application.id } } });
    await eventually(async () => (await row()).attempts === 1 && (await row()).lastError !== null, "the first attempt");
    expect((await row()).lastError).toBe("connection refused");

    await db.webhookDelivery.update({ where: { id: (await row()).id }, data: { attempts: MAX_DELIVERY_ATTEMPTS - 1 } });
    const last = await row();
    expect(await deliverDueWebhooks({ ids: [last.id], now: last.nextAttemptAt })).toEqual([{ deliveryId: last.id, attempt: MAX_DELIVERY_ATTEMPTS, ok: false, error: "connection refused" }]);
    expect((await row()).lastError).toBe(`connection refused (gave up after ${MAX_DELIVERY_ATTEMPTS} attempts)`);
    expect(await deliverDueWebhooks({ ids: [last.id], now: new Date(Date.now() + 365 * 86_400_000) })).toEqual([]);
    const [listed] = await listWebhooks(f.ops, f.tenant.application.id);
    expect(listed?.deliveries.map((d) => d.state)).toEqual(["failed"]);
  });

  it("deployment events go to subscribed webhooks once each, however often they are published", async () => {
    const f = await releaseFlow();
    await createWebhook(f.ops, {
      applicationId: f.tenant.application.id,
      url: `${base}/deployments`,
      events: ["release.ready_for_acceptance", "deployment.started", "deployment.succeeded"],
    });
    await createWebhook(f.ops, { applicationId: f.tenant.application.id, url: `${base}/unsubscribed`, events: ["deployment.failed"] });
    const { deployment } = await releaseInAcceptance(f);
    await onDeploymentFinished(deployment.id);
    await onDeploymentFinished(deployment.id);
    await Promise.all([onDeploymentFinished(deployment.id), onDeploymentFinished(deployment.id)]);
    await settleBackgroundWork();
    const payloads = receiver.on("/deployments").map((r) => JSON.parse(r.body) as { id: string; type: string; deployment: { id: string } });
    const forThis = payloads.filter((p) => p.deployment.id === deployment.id);
    expect(forThis.map((p) => p.type).sort()).toEqual(["deployment.started", "deployment.succeeded", "release.ready_for_acceptance"]);
    expect(receiver.on("/unsubscribed")).toEqual([]);
  });
});
