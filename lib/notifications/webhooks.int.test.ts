// Outgoing webhooks against real PostgreSQL and a real HTTP receiver on loopback: management (ops and admins only,
// secret shown once), signed deliveries a receiver can verify with the secret alone, retries with exponential
// backoff after failures, and one delivery per event however often it is published.
import { createHmac } from "node:crypto";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { testContext } from "../../test/factories";
import { type Flow, releaseFlow, releaseInAcceptance } from "../../test/release-flow";
import { recordVerdict } from "../approvals/record-verdict";
import { db } from "../db/client";
import { settleBackgroundWork } from "./background";
import { createWebhook } from "./create-webhook";
import { deleteWebhook } from "./delete-webhook";
import { deliverDueWebhooks, holdWebhookDeliveries, releaseWebhookDeliveries } from "./deliver-webhooks";
import { listWebhooks } from "./list-webhooks";
import { onDeploymentFinished } from "./on-deployment-finished";
import { publish } from "./publish";
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
    expect((await row()).lastError).toBe("Could not deliver: no HTTP answer");

    await db.webhookDelivery.update({ where: { id: (await row()).id }, data: { attempts: MAX_DELIVERY_ATTEMPTS - 1 } });
    const last = await row();
    expect(await deliverDueWebhooks({ ids: [last.id], now: last.nextAttemptAt })).toEqual([{ deliveryId: last.id, attempt: MAX_DELIVERY_ATTEMPTS, ok: false, error: "Could not deliver: no HTTP answer" }]);
    expect((await row()).lastError).toBe(`Could not deliver: no HTTP answer (gave up after ${MAX_DELIVERY_ATTEMPTS} attempts)`);
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

describe("delivery order", () => {
  /** A synthetic event of the application, published through the real publisher (no people to tell). */
  const event = (f: Flow, name: string, occurredAt: Date) =>
    publish({ id: `deployment.started:${name}`, type: "deployment.started", applicationId: f.tenant.application.id, occurredAt, audiences: [], data: { name } });
  const namesAt = (path: string) => receiver.on(path).map((r) => (JSON.parse(r.body) as { name?: string; type: string }).name ?? (JSON.parse(r.body) as { type: string }).type);
  /** `s` seconds after now: the webhooks of these tests exist by then (none is sent what happened before it). */
  const soon = (s: number) => new Date(Date.now() + s * 1000);

  it("a webhook never receives events from before it was created, even when they are published again after a restart", async () => {
    const f = await releaseFlow();
    const { deployment } = await releaseInAcceptance(f);
    await settleBackgroundWork();
    const { webhook } = await createWebhook(f.ops, {
      applicationId: f.tenant.application.id,
      url: `${base}/created-later`,
      events: ["release.ready_for_acceptance", "deployment.started", "deployment.succeeded"],
    });
    // What the notification timer's catch-up does on start: publish again what recent deployments owe.
    await onDeploymentFinished(deployment.id);
    await event(f, "before", new Date(Date.now() - 5 * 60_000));
    await settleBackgroundWork();
    expect(await db.webhookDelivery.count({ where: { webhookId: webhook.id } })).toBe(0);
    expect(receiver.on("/created-later")).toEqual([]);
  });

  it("deliveries go out in event order: an earlier delivery that is being retried holds back the later ones", async () => {
    const f = await releaseFlow();
    await createWebhook(f.ops, { applicationId: f.tenant.application.id, url: `${base}/ordered`, events: ["deployment.started"] });
    let down = true;
    receiver.respond = (r) => (r.path === "/ordered" && down ? 503 : 200);
    try {
      await event(f, "first", new Date());
      await settleBackgroundWork();
      await event(f, "second", new Date());
      await event(f, "third", new Date());
      await settleBackgroundWork();
      // Only the first was tried; the others wait for it.
      expect(namesAt("/ordered")).toEqual(["first"]);
      const first = await db.webhookDelivery.findFirstOrThrow({ where: { webhook: { applicationId: f.tenant.application.id }, payload: { path: ["name"], equals: "first" } } });
      expect(await deliverDueWebhooks({ now: new Date(first.nextAttemptAt.getTime() - 1000) })).not.toContainEqual(expect.objectContaining({ deliveryId: first.id }));
      expect(namesAt("/ordered")).toEqual(["first"]);

      down = false;
      await deliverDueWebhooks({ now: first.nextAttemptAt });
      expect(namesAt("/ordered")).toEqual(["first", "first", "second", "third"]);
    } finally {
      receiver.respond = () => 200;
    }
  });

  it("events published out of order (a catch-up after a restart) are still delivered in the order they happened", async () => {
    const f = await releaseFlow();
    await createWebhook(f.ops, { applicationId: f.tenant.application.id, url: `${base}/catch-up`, events: ["deployment.started"] });
    let down = true;
    receiver.respond = (r) => (r.path === "/catch-up" && down ? 503 : 200);
    try {
      // The receiver is down; meanwhile a later event is published before an earlier one.
      await event(f, "one", soon(1));
      await settleBackgroundWork();
      await event(f, "three", soon(3));
      await event(f, "two", soon(2));
      await settleBackgroundWork();
      down = false;
      await deliverDueWebhooks({ now: new Date(Date.now() + 60 * 60_000) });
      expect(namesAt("/catch-up")).toEqual(["one", "one", "two", "three"]);
    } finally {
      receiver.respond = () => 200;
    }
  });

  it("after a restart nothing goes out until the catch-up has published what the previous run owed, which then goes first", async () => {
    const f = await releaseFlow();
    await createWebhook(f.ops, { applicationId: f.tenant.application.id, url: `${base}/restart`, events: ["deployment.started"] });
    holdWebhookDeliveries(); // what the notification timer does when the process starts
    try {
      await event(f, "newer, published at once", soon(2));
      await settleBackgroundWork();
      expect(namesAt("/restart")).toEqual([]);
      await event(f, "owed by the previous run", soon(1)); // what the catch-up finds
    } finally {
      releaseWebhookDeliveries();
    }
    await deliverDueWebhooks({ now: soon(60) });
    expect(namesAt("/restart")).toEqual(["owed by the previous run", "newer, published at once"]);
  });

  it("an event published after a later one was already delivered is not sent out of order: it is listed as skipped, with why", async () => {
    const f = await releaseFlow();
    const { webhook } = await createWebhook(f.ops, { applicationId: f.tenant.application.id, url: `${base}/late`, events: ["deployment.started"] });
    await event(f, "later", soon(2));
    await settleBackgroundWork();
    expect(namesAt("/late")).toEqual(["later"]);
    await event(f, "earlier", soon(1));
    await settleBackgroundWork();
    await deliverDueWebhooks({ now: new Date(Date.now() + 24 * 60 * 60_000) });
    expect(namesAt("/late")).toEqual(["later"]);
    const [listed] = await listWebhooks(f.ops, f.tenant.application.id);
    const skipped = listed?.deliveries.find((d) => d.state !== "delivered");
    expect(skipped).toMatchObject({ state: "skipped", lastError: expect.stringMatching(/^Not sent: a later event .* was already delivered/) });
    expect(await db.webhookDelivery.count({ where: { webhookId: webhook.id } })).toBe(2);
  });
});

describe("destinations", () => {
  // These tests run with WEBHOOK_ALLOWED_NETWORKS=127.0.0.1/32 (test/global-setup.ts): the receiver above is
  // allow-listed; every other private or reserved address is not.
  const create = (url: string) => createWebhook(flow.ops, { applicationId: flow.tenant.application.id, url, events: ["deployment.started"] });

  /** A TCP listener on `host` that counts connections and answers them as `answer` says. */
  async function listener(host: string, answer: (socket: net.Socket) => void = (s) => s.destroy()) {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      answer(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return {
      port: (server.address() as AddressInfo).port,
      connections: () => sockets.size,
      close: () => {
        for (const s of sockets) s.destroy();
        return new Promise((resolve) => server.close(resolve));
      },
    };
  }

  it("refuses to add a webhook to loopback, link-local, private or reserved addresses, saying why on the URL field", async () => {
    const refused = [
      "http://127.0.0.2:5432/",
      "http://169.254.169.254/latest/meta-data/",
      "http://10.1.2.3/hook",
      "http://172.16.5.4/",
      "http://192.168.0.10:8080/",
      "http://100.64.0.1/",
      "http://0.0.0.0:3000/",
      "http://2130706434/", // 127.0.0.2 spelled as a number
      "http://224.0.0.1/",
      "http://255.255.255.255/",
      "http://198.18.0.1/",
      "http://[::1]:8080/",
      "http://[::]/",
      "http://[::ffff:127.0.0.2]/",
      "http://[::ffff:a9fe:a9fe]/", // 169.254.169.254, IPv4-mapped
      "http://[fd12:3456::1]/",
      "http://[fe80::1]/",
      "http://[ff02::1]/",
      "http://[2001:db8::1]/",
    ];
    for (const url of refused) {
      const e = await expectAppError(create(url), "INVALID_INPUT");
      expect(e.fieldErrors?.url?.[0], url).toMatch(/^\S+ is an? .+ address\. Webhooks go only to public addresses unless an administrator allows the network \(WEBHOOK_ALLOWED_NETWORKS\)\.$/);
    }
    expect(await db.webhook.count({ where: { url: { in: refused } } })).toBe(0);
  });

  it("accepts public addresses, and private ones an administrator allow-listed", async () => {
    await expect(create("https://93.184.216.34/hooks/releasegate")).resolves.toMatchObject({ webhook: { url: "https://93.184.216.34/hooks/releasegate" } });
    await expect(create("https://[2606:4700:4700::1111]/hook")).resolves.toBeDefined();
    await expect(create(`${base}/allow-listed`)).resolves.toBeDefined();
  });

  it("checks the address again when it delivers, and connects to nothing that is not allowed", async () => {
    const f = await releaseFlow();
    const inside = await listener("127.0.0.2");
    try {
      const { webhook } = await createWebhook(f.ops, { applicationId: f.tenant.application.id, url: `${base}/moved`, events: ["deployment.started"] });
      // What a name re-pointed after the check would do (DNS rebinding): the destination is now a loopback address.
      await db.webhook.update({ where: { id: webhook.id }, data: { url: `http://127.0.0.2:${inside.port}/moved` } });
      await publish({ id: `deployment.started:moved`, type: "deployment.started", applicationId: f.tenant.application.id, occurredAt: new Date(), audiences: [], data: {} });
      await settleBackgroundWork();
      const delivery = await db.webhookDelivery.findFirstOrThrow({ where: { webhookId: webhook.id } });
      expect(delivery).toMatchObject({ deliveredAt: null, attempts: 1 });
      expect(delivery.lastError).toMatch(/^Not sent: 127\.0\.0\.2 is a loopback address/);
      expect(inside.connections()).toBe(0);
    } finally {
      await inside.close();
    }
  });

  it("a failed delivery says the same whether the port is closed, resets the connection or is not HTTP: no port scanner", async () => {
    const f = await releaseFlow();
    const reset = await listener("127.0.0.1");
    const ssh = await listener("127.0.0.1", (s) => s.end("SSH-2.0-OpenSSH_9.2\r\n"));
    const closed = await listener("127.0.0.1");
    const closedPort = closed.port;
    await closed.close();
    try {
      const urls = [`http://127.0.0.1:${closedPort}/`, `http://127.0.0.1:${reset.port}/`, `http://127.0.0.1:${ssh.port}/`];
      for (const url of urls) await createWebhook(f.ops, { applicationId: f.tenant.application.id, url, events: ["deployment.started"] });
      await publish({ id: `deployment.started:scan`, type: "deployment.started", applicationId: f.tenant.application.id, occurredAt: new Date(), audiences: [], data: {} });
      await settleBackgroundWork();
      const deliveries = await db.webhookDelivery.findMany({ where: { webhook: { applicationId: f.tenant.application.id } }, include: { webhook: { select: { url: true } } } });
      expect(deliveries).toHaveLength(3);
      expect(new Set(deliveries.map((d) => d.lastError))).toEqual(new Set(["Could not deliver: no HTTP answer"]));
    } finally {
      await Promise.all([reset.close(), ssh.close()]);
    }
  });

  it("a port that accepts the connection and never answers fails after the full timeout, recorded as a closed port's failure is", async () => {
    const f = await releaseFlow();
    const silent = await listener("127.0.0.1", () => undefined); // accepts, reads nothing, says nothing
    const closed = await listener("127.0.0.1");
    const closedPort = closed.port;
    await closed.close();
    try {
      for (const port of [silent.port, closedPort]) {
        await createWebhook(f.ops, { applicationId: f.tenant.application.id, url: `http://127.0.0.1:${port}/hook`, events: ["deployment.started"] });
      }
      holdWebhookDeliveries(); // sent below, one at a time, so each attempt can be timed
      try {
        await publish({ id: `deployment.started:silent`, type: "deployment.started", applicationId: f.tenant.application.id, occurredAt: new Date(), audiences: [], data: {} });
      } finally {
        releaseWebhookDeliveries();
      }
      const deliveryTo = (port: number) => db.webhookDelivery.findFirstOrThrow({ where: { webhook: { applicationId: f.tenant.application.id, url: { contains: `:${port}/` } } } });
      const attempt = async (port: number) => {
        const { id } = await deliveryTo(port);
        const startedAt = Date.now();
        const outcomes = await deliverDueWebhooks({ ids: [id] });
        return { outcomes, startedAt, tookMs: Date.now() - startedAt, row: await deliveryTo(port) };
      };
      const [quiet, refused] = [await attempt(silent.port), await attempt(closedPort)];

      expect(silent.connections()).toBe(1); // the connection was accepted: this is the silent port, not a closed one
      expect(quiet.tookMs).toBeGreaterThanOrEqual(10_000); // the whole answer timeout, then the failure is recorded
      for (const { outcomes, row, startedAt } of [quiet, refused]) {
        expect(outcomes).toEqual([{ deliveryId: row.id, attempt: 1, ok: false, error: "Could not deliver: no HTTP answer" }]);
        expect(row).toMatchObject({ attempts: 1, deliveredAt: null, lastError: "Could not deliver: no HTTP answer" });
        // The next try counts from when the attempt began, not from when it failed: waiting out the timeout leaves no trace.
        const wait = row.nextAttemptAt.getTime() - startedAt;
        expect(wait).toBeGreaterThanOrEqual(backoffMs(1, () => 0) - 1_000);
        expect(wait).toBeLessThanOrEqual(backoffMs(1, () => 1) + 1_000);
      }
      const listed = await listWebhooks(f.ops, f.tenant.application.id);
      expect(listed.flatMap((h) => h.deliveries.map((d) => [d.state, d.attempts, d.lastError]))).toEqual([
        ["retrying", 1, "Could not deliver: no HTTP answer"],
        ["retrying", 1, "Could not deliver: no HTTP answer"],
      ]);
    } finally {
      await silent.close();
    }
  }, 30_000);

  it("a redirect is not followed: the delivery fails with its status, and nothing reaches where it points", async () => {
    const f = await releaseFlow();
    const target = await listener("127.0.0.2");
    const redirecting = http.createServer((_req, res) => res.writeHead(302, { location: `http://127.0.0.2:${target.port}/stolen` }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, "127.0.0.1", resolve));
    try {
      const { webhook } = await createWebhook(f.ops, { applicationId: f.tenant.application.id, url: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/hook`, events: ["deployment.started"] });
      await publish({ id: `deployment.started:redirect`, type: "deployment.started", applicationId: f.tenant.application.id, occurredAt: new Date(), audiences: [], data: {} });
      await settleBackgroundWork();
      expect((await db.webhookDelivery.findFirstOrThrow({ where: { webhookId: webhook.id } })).lastError).toBe("HTTP 302: redirects are not followed");
      expect(target.connections()).toBe(0);
    } finally {
      await Promise.all([target.close(), new Promise((resolve) => redirecting.close(resolve))]);
    }
  });
});
