// Enrollment and authentication of agents, through the domain functions and the real agent API over HTTP, as an
// agent and as ops would use them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentApiServer, startAgentApiServer } from "../../test/agent-api-server";
import { AGENT_API_PATHS, AGENT_API_PREFIX } from "../contracts/agent-api";
import { expectAppError } from "../../test/assertions";
import { createMember, createReleaseRow, createTenant, environmentsOf, testContext, uniq } from "../../test/factories";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { addTarget } from "../targets/add-target";
import { reissueEnrollment } from "../targets/reissue-enrollment";
import { revokeAgent } from "../targets/revoke-agent";
import { authenticateAgent } from "./authenticate-agent";
import { enrollAgent } from "./enroll-agent";

type Tenant = Awaited<ReturnType<typeof createTenant>>;
let tenant: Tenant;
let ops: UserActor;
let productionId: string;
let api: AgentApiServer;

beforeAll(async () => {
  api = await startAgentApiServer();
  tenant = await createTenant();
  ops = await createMember(tenant, "OPS");
  productionId = (await environmentsOf(tenant.application.id))[2]!.id;
});

afterAll(() => api.close());

const enroll = (token: string) => enrollAgent({ token, hostname: "web-1.internal", agentVersion: "0.1.0" }, testContext());

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${api.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

describe("adding a server", () => {
  it("gives ops a one-time enrollment token; only its hash is stored", async () => {
    const { target, enrollmentToken, expiresAt } = await addTarget(ops, { environmentId: productionId, name: uniq("web") });
    expect(enrollmentToken).toMatch(/^rge_[A-Za-z0-9_-]{43}$/);
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    const row = await db.target.findUniqueOrThrow({ where: { id: target.id } });
    expect(row.status).toBe("PENDING");
    expect(JSON.stringify(row)).not.toContain(enrollmentToken.slice(4));
  });

  it("is refused to a developer, and nothing is created", async () => {
    const dev = await createMember(tenant, "DEVELOPER");
    const name = uniq("web");
    await expectAppError(addTarget(dev, { environmentId: productionId, name }), "FORBIDDEN");
    expect(await db.target.count({ where: { name } })).toBe(0);
  });

  it("refuses a duplicate name in the same environment", async () => {
    const name = uniq("web");
    await addTarget(ops, { environmentId: productionId, name });
    await expectAppError(addTarget(ops, { environmentId: productionId, name }), "CONFLICT", new RegExp(`already has a server named ${name}`));
  });
});

describe("enrollment", () => {
  it("exchanges the token once for a 256-bit secret that authenticates the agent", async () => {
    const { target, enrollmentToken } = await addTarget(ops, { environmentId: productionId, name: uniq("web") });
    const res = await enroll(enrollmentToken);
    expect(res.targetId).toBe(target.id);
    expect(res.agentSecret).toMatch(/^rga_[A-Za-z0-9_-]{43}$/);
    expect(res.target).toMatchObject({ name: target.name, environment: "Production", application: tenant.application.name });
    const agent = await authenticateAgent(`Bearer ${res.agentSecret}`, testContext());
    expect(agent.targetId).toBe(target.id);
    const row = await db.target.findUniqueOrThrow({ where: { id: target.id } });
    expect(row).toMatchObject({ status: "ACTIVE", agentHostname: "web-1.internal", agentVersion: "0.1.0", enrollmentTokenHash: null });
    expect(JSON.stringify(row)).not.toContain(res.agentSecret.slice(10));
    await expectAppError(enroll(enrollmentToken), "UNAUTHENTICATED", /not valid/);
  });

  it("refuses an expired token", async () => {
    const { target, enrollmentToken } = await addTarget(ops, { environmentId: productionId, name: uniq("web") });
    await db.target.update({ where: { id: target.id }, data: { enrollmentExpiresAt: new Date(Date.now() - 1000) } });
    await expectAppError(enroll(enrollmentToken), "UNAUTHENTICATED");
    expect((await db.target.findUniqueOrThrow({ where: { id: target.id } })).status).toBe("PENDING");
  });

  it("lets exactly one of two agents racing with the same token enroll", async () => {
    const { enrollmentToken } = await addTarget(ops, { environmentId: productionId, name: uniq("web") });
    const results = await Promise.allSettled([enroll(enrollmentToken), enroll(enrollmentToken)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });
});

describe("revoke and rotate", () => {
  it("a revoked agent is refused on its next call", async () => {
    const { target, enrollmentToken } = await addTarget(ops, { environmentId: productionId, name: uniq("web") });
    const { agentSecret } = await enroll(enrollmentToken);
    await revokeAgent(ops, { targetId: target.id });
    await expectAppError(authenticateAgent(`Bearer ${agentSecret}`, testContext()), "UNAUTHENTICATED", /revoked or rotated/);
    await expectAppError(revokeAgent(ops, { targetId: target.id }), "CONFLICT");
  });

  it("rotation stops the old secret at once and a new token enrolls a new one", async () => {
    const { target, enrollmentToken } = await addTarget(ops, { environmentId: productionId, name: uniq("web") });
    const first = await enroll(enrollmentToken);
    const { enrollmentToken: again } = await reissueEnrollment(ops, { targetId: target.id });
    await expectAppError(authenticateAgent(`Bearer ${first.agentSecret}`, testContext()), "UNAUTHENTICATED");
    const second = await enroll(again);
    expect(second.agentSecret).not.toBe(first.agentSecret);
    expect((await authenticateAgent(`Bearer ${second.agentSecret}`, testContext())).targetId).toBe(target.id);
  });
});

describe("the agent API over HTTP", () => {
  it("enrolls, then takes heartbeats that record what the node runs (own application's releases only)", async () => {
    const { target, enrollmentToken } = await addTarget(ops, { environmentId: productionId, name: uniq("web") });
    const res = await post(AGENT_API_PATHS.enroll, { token: enrollmentToken, hostname: "web-9", agentVersion: "0.1.0" });
    expect(res.status).toBe(201);
    const { agentSecret } = (await res.json()) as { agentSecret: string };
    const mine = await createReleaseRow({ applicationId: tenant.application.id, uploadedById: tenant.admin.id });
    const other = await createTenant();
    const foreign = await createReleaseRow({ applicationId: other.application.id, uploadedById: other.admin.id });
    const hb = await post(
      AGENT_API_PATHS.heartbeat,
      { agentVersion: "0.1.1", hostname: "web-9", liveReleaseId: mine.id, stagedReleaseIds: [mine.id, foreign.id] },
      { authorization: `Bearer ${agentSecret}` },
    );
    expect(hb.status).toBe(200);
    expect(await hb.json()).toMatchObject({ heartbeatIntervalSeconds: 10 });
    const row = await db.target.findUniqueOrThrow({ where: { id: target.id } });
    expect(row).toMatchObject({ agentVersion: "0.1.1", liveReleaseId: mine.id, stagedReleaseIds: [mine.id] });
    expect(row.lastSeenAt!.getTime()).toBeGreaterThan(Date.now() - 5000);
  });

  it("keeps what a node reports even when it holds a NUL character, which PostgreSQL text cannot store (shown as \uFFFD)", async () => {
    // A REVISION file written by another tool, or a hook's output, is whatever bytes it is.
    const { target, enrollmentToken } = await addTarget(ops, { environmentId: productionId, name: uniq("web") });
    const { agentSecret } = await enroll(enrollmentToken);
    const hb = await post(
      AGENT_API_PATHS.heartbeat,
      { agentVersion: "0.1.1", hostname: "web-9", liveReleaseId: null, stagedReleaseIds: [], current: { kind: "foreign", path: "releases/2024\u0000", revision: "4f2a\u00009c1" } },
      { authorization: `Bearer ${agentSecret}` },
    );
    expect(hb.status).toBe(200);
    expect(await db.target.findUniqueOrThrow({ where: { id: target.id } })).toMatchObject({ currentPath: "releases/2024\uFFFD", currentRevision: "4f2a\uFFFD9c1" });
  });

  it("refuses a call with only a session cookie, a bad body, or an unknown token, with readable JSON errors", async () => {
    const cookieOnly = await post(AGENT_API_PATHS.heartbeat, { agentVersion: "1", hostname: "h", liveReleaseId: null, stagedReleaseIds: [] }, { cookie: "next-auth.session-token=abc" });
    expect(cookieOnly.status).toBe(401);
    expect(await cookieOnly.json()).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
    const bad = await post(AGENT_API_PATHS.enroll, { token: "nope" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/token/);
    const unknown = await post(AGENT_API_PATHS.enroll, { token: `rge_${"a".repeat(43)}`, hostname: "h", agentVersion: "1" });
    expect(unknown.status).toBe(401);
  });

  it("answers what is not an agent call with JSON errors: unknown path, wrong method, bad JSON, oversized body, malformed id", async () => {
    const { enrollmentToken } = await addTarget(ops, { environmentId: productionId, name: uniq("web") });
    const { agentSecret } = await enroll(enrollmentToken);
    const auth = { authorization: `Bearer ${agentSecret}` };
    const nowhere = await post(`${AGENT_API_PREFIX}/nowhere`, {}, auth);
    expect(nowhere.status).toBe(404);
    expect(await nowhere.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    const get = await fetch(`${api.url}${AGENT_API_PATHS.heartbeat}`, { headers: auth });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const notJson = await fetch(`${api.url}${AGENT_API_PATHS.heartbeat}`, { method: "POST", headers: auth, body: "{nope" });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: "INVALID_INPUT", message: "The request body is not valid JSON." } });
    const huge = await fetch(`${api.url}${AGENT_API_PATHS.heartbeat}`, { method: "POST", headers: auth, body: `"${"x".repeat(300 * 1024)}"` });
    expect(huge.status).toBe(413);
    const badId = await post(AGENT_API_PATHS.report("not-a-uuid"), { leaseId: crypto.randomUUID(), status: "RUNNING" }, auth);
    expect(badId.status).toBe(404);
    // A malformed percent-escape once threw outside the handler: the call hung until the client gave up.
    const badEscape = await fetch(`${api.url}${AGENT_API_PATHS.report("%E0%A4%A")}`, {
      method: "POST",
      headers: auth,
      body: "{}",
      signal: AbortSignal.timeout(5_000),
    });
    expect(badEscape.status).toBe(404);
    expect(await badEscape.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  it("holds an empty long-poll until its wait runs out, then answers that there is no job", async () => {
    const { enrollmentToken } = await addTarget(ops, { environmentId: productionId, name: uniq("web") });
    const { agentSecret } = await enroll(enrollmentToken);
    const started = Date.now();
    const empty = await post(AGENT_API_PATHS.claim, { waitSeconds: 1 }, { authorization: `Bearer ${agentSecret}` });
    expect(await empty.json()).toEqual({ job: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
