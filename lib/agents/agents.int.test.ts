// Enrollment and authentication of agents, through the domain functions and the real route handlers, as an
// agent and as ops would use them.
import { beforeAll, describe, expect, it } from "vitest";
import { POST as enrollRoute } from "../../app/api/agent/v1/enroll/route";
import { POST as heartbeatRoute } from "../../app/api/agent/v1/heartbeat/route";
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

beforeAll(async () => {
  tenant = await createTenant();
  ops = await createMember(tenant, "OPS");
  productionId = (await environmentsOf(tenant.application.id))[2]!.id;
});

const enroll = (token: string) => enrollAgent({ token, hostname: "web-1.internal", agentVersion: "0.1.0" }, testContext());

function post(handler: (r: Request, c: { params: Promise<Record<string, never>> }) => Promise<Response>, body: unknown, headers: Record<string, string> = {}) {
  const request = new Request("http://localhost/api/agent/v1/x", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return handler(request, { params: Promise.resolve({}) });
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
    const res = await post(enrollRoute, { token: enrollmentToken, hostname: "web-9", agentVersion: "0.1.0" });
    expect(res.status).toBe(201);
    const { agentSecret } = (await res.json()) as { agentSecret: string };
    const mine = await createReleaseRow({ applicationId: tenant.application.id, uploadedById: tenant.admin.id });
    const other = await createTenant();
    const foreign = await createReleaseRow({ applicationId: other.application.id, uploadedById: other.admin.id });
    const hb = await post(
      heartbeatRoute,
      { agentVersion: "0.1.1", hostname: "web-9", liveReleaseId: mine.id, stagedReleaseIds: [mine.id, foreign.id] },
      { authorization: `Bearer ${agentSecret}` },
    );
    expect(hb.status).toBe(200);
    expect(await hb.json()).toMatchObject({ heartbeatIntervalSeconds: 10 });
    const row = await db.target.findUniqueOrThrow({ where: { id: target.id } });
    expect(row).toMatchObject({ agentVersion: "0.1.1", liveReleaseId: mine.id, stagedReleaseIds: [mine.id] });
    expect(row.lastSeenAt!.getTime()).toBeGreaterThan(Date.now() - 5000);
  });

  it("refuses a call with only a session cookie, a bad body, or an unknown token, with readable JSON errors", async () => {
    const cookieOnly = await post(heartbeatRoute, { agentVersion: "1", hostname: "h", liveReleaseId: null, stagedReleaseIds: [] }, { cookie: "next-auth.session-token=abc" });
    expect(cookieOnly.status).toBe(401);
    expect(await cookieOnly.json()).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
    const bad = await post(enrollRoute, { token: "nope" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/token/);
    const unknown = await post(enrollRoute, { token: `rge_${"a".repeat(43)}`, hostname: "h", agentVersion: "1" });
    expect(unknown.status).toBe(401);
  });
});
