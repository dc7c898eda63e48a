// API tokens for build pipelines: created with at most the creator's roles, stored as a hash, refused once
// revoked, expired, or when their creator is disabled or loses the roles.
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { actorFor, createMember, createTenant, testContext, uniq } from "../../test/factories";
import type { UserActor } from "../auth/actor";
import { hashCredential } from "../agents/credentials";
import { db } from "../db/client";
import { setUserStatus } from "../users/set-user-status";
import { revokeRole } from "../memberships/revoke-role";
import { grantRole } from "../memberships/grant-role";
import { authenticateApiToken } from "./authenticate-api-token";
import { createApiToken, ZCreateApiTokenRequestSchema } from "./create-api-token";
import { listApiTokens } from "./list-api-tokens";
import { revokeApiToken } from "./revoke-api-token";

type Tenant = Awaited<ReturnType<typeof createTenant>>;
let tenant: Tenant;
let dev: UserActor;

beforeAll(async () => {
  tenant = await createTenant();
  dev = await createMember(tenant, "DEVELOPER");
});

const request = (over: Record<string, unknown> = {}) =>
  ZCreateApiTokenRequestSchema.parse({ applicationId: tenant.application.id, name: uniq("ci"), roles: ["DEVELOPER"], expiresInDays: "90", ...over });
const authenticate = (token: string) => authenticateApiToken(`Bearer ${token}`, testContext());

describe("creating a token", () => {
  it("returns a 256-bit rgt_ token once and stores only its hash and a short prefix", async () => {
    const { token, plaintext } = await createApiToken(dev, request());
    expect(plaintext).toMatch(/^rgt_[A-Za-z0-9_-]{43}$/);
    expect(token.prefix).toBe(plaintext.slice(0, 10));
    const row = await db.apiToken.findUniqueOrThrow({ where: { id: token.id } });
    expect(row).toMatchObject({ roles: ["DEVELOPER"], createdById: dev.id, revokedAt: null, lastUsedAt: null });
    expect(JSON.stringify(row)).not.toContain(plaintext.slice(10));
    expect(row.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 89 * 24 * 3600_000);

    const actor = await authenticate(plaintext);
    expect(actor).toMatchObject({ type: "API_TOKEN", tokenId: token.id, createdById: dev.id, applicationId: tenant.application.id, isPlatformAdmin: false });
    expect(actor.label).toBe(`API token ${token.name} (${plaintext.slice(4, 10)})`);
    expect([...actor.roles.get(tenant.application.id)!]).toEqual(["DEVELOPER"]);
    expect([...actor.roles.keys()]).toEqual([tenant.application.id]);
  });

  it("never gives a token a role its creator does not hold", async () => {
    const name = uniq("ci");
    await expectAppError(createApiToken(dev, request({ name, roles: ["DEVELOPER", "OPS"] })), "FORBIDDEN", /you are not Ops there/);
    expect(await db.apiToken.count({ where: { name } })).toBe(0);
  });

  // The permission matrix keeps administrators out of the release procedure (uploading, deploying: admin: false);
  // a token must not be a way around it.
  it("gives an administrator's token no role the administrator does not hold on the application", async () => {
    const other = await createTenant();
    const name = uniq("ci");
    await expectAppError(
      createApiToken(other.admin, ZCreateApiTokenRequestSchema.parse({ applicationId: other.application.id, name, roles: ["DEVELOPER", "OPS"] })),
      "FORBIDDEN",
      /you are not Developer and Ops there/,
    );
    expect(await db.apiToken.count({ where: { name } })).toBe(0);

    // Holding the role (granted in the open, audited), the administrator may put it on a token, like anyone.
    await grantRole(other.admin, { applicationId: other.application.id, userId: other.admin.id, role: "OPS" });
    const { plaintext } = await createApiToken(await actorFor(other.admin.id), ZCreateApiTokenRequestSchema.parse({ applicationId: other.application.id, name: uniq("ci"), roles: ["OPS"] }));
    expect([...(await authenticate(plaintext)).roles.get(other.application.id)!]).toEqual(["OPS"]);
  });

  it("never delegates a person's judgement: customer and approver roles cannot be put on a token", () => {
    for (const role of ["CUSTOMER", "APPROVER"]) {
      const parsed = ZCreateApiTokenRequestSchema.safeParse({ applicationId: tenant.application.id, name: "ci", roles: [role] });
      expect(parsed.success).toBe(false);
    }
    expect(ZCreateApiTokenRequestSchema.safeParse({ applicationId: tenant.application.id, name: "ci" }).error?.issues[0]?.message).toBe("Choose at least one role for the token.");
    expect(ZCreateApiTokenRequestSchema.parse({ applicationId: tenant.application.id, name: "ci", roles: "OPS", expiresInDays: "" })).toMatchObject({ roles: ["OPS"], expiresInDays: undefined });
  });

  it("is refused to people who do not manage the application's tokens, and to other tenants", async () => {
    const customer = await createMember(tenant, "CUSTOMER", { customerSide: true });
    await expectAppError(createApiToken(customer, request()), "FORBIDDEN");
    const other = await createTenant();
    const outsider = await createMember(other, "DEVELOPER");
    await expectAppError(createApiToken(outsider, request()), "NOT_FOUND");
    await expectAppError(listApiTokens(outsider, tenant.application.id), "NOT_FOUND");
  });

  it("refuses a second active token with the same name", async () => {
    const name = uniq("ci");
    await createApiToken(dev, request({ name }));
    await expectAppError(createApiToken(dev, request({ name })), "CONFLICT", /already has an active token named/);
  });
});

describe("using a token", () => {
  it("refuses missing, malformed, unknown and other kinds of credentials", async () => {
    await expectAppError(authenticateApiToken(null, testContext()), "UNAUTHENTICATED", /Authorization: Bearer rgt_/);
    await expectAppError(authenticateApiToken("Bearer rga_" + "a".repeat(43), testContext()), "UNAUTHENTICATED", /API token/);
    await expectAppError(authenticateApiToken("rgt_" + "a".repeat(43), testContext()), "UNAUTHENTICATED");
    await expectAppError(authenticate("rgt_" + "a".repeat(43)), "UNAUTHENTICATED", "This API token is not valid.");
  });

  it("is refused from the call after it was revoked; revoking twice is a conflict", async () => {
    const { token, plaintext } = await createApiToken(dev, request());
    await authenticate(plaintext);
    const ops = await createMember(tenant, "OPS");
    await revokeApiToken(ops, { tokenId: token.id }); // a teammate can stop a leaked token
    await expectAppError(authenticate(plaintext), "UNAUTHENTICATED", /was revoked/);
    await expectAppError(revokeApiToken(dev, { tokenId: token.id }), "CONFLICT");
  });

  it("is refused once expired", async () => {
    const { token, plaintext } = await createApiToken(dev, request({ expiresInDays: "1" }));
    await db.apiToken.update({ where: { id: token.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await expectAppError(authenticate(plaintext), "UNAUTHENTICATED", /expired on/);
  });

  it("stops working when its creator is disabled, and works again when they are enabled", async () => {
    const creator = await createMember(tenant, "DEVELOPER");
    const { plaintext } = await createApiToken(creator, request());
    await setUserStatus(tenant.admin, { userId: creator.id, status: "DISABLED" });
    await expectAppError(authenticate(plaintext), "UNAUTHENTICATED", /is disabled/);
    await setUserStatus(tenant.admin, { userId: creator.id, status: "ACTIVE" });
    expect((await authenticate(plaintext)).createdById).toBe(creator.id);
  });

  it("acts with the token's roles its creator still holds, and not at all when none remain", async () => {
    const creator = await createMember(tenant, "DEVELOPER");
    const ops = await grantRole(tenant.admin, { applicationId: tenant.application.id, userId: creator.id, role: "OPS" });
    const { plaintext } = await createApiToken(await actorFor(creator.id), request({ roles: ["DEVELOPER", "OPS"] }));
    expect([...(await authenticate(plaintext)).roles.get(tenant.application.id)!].sort()).toEqual(["DEVELOPER", "OPS"]);

    await revokeRole(tenant.admin, { membershipId: ops.id });
    expect([...(await authenticate(plaintext)).roles.get(tenant.application.id)!]).toEqual(["DEVELOPER"]);

    const dev = await db.membership.findFirstOrThrow({ where: { userId: creator.id, applicationId: tenant.application.id } });
    await revokeRole(tenant.admin, { membershipId: dev.id });
    await expectAppError(authenticate(plaintext), "UNAUTHENTICATED", /no longer holds its roles/);
  });

  it("acts only with roles an administrator creator holds now: the admin flag is no role on the application", async () => {
    const other = await createTenant();
    const ops = await grantRole(other.admin, { applicationId: other.application.id, userId: other.admin.id, role: "OPS" });
    const { plaintext } = await createApiToken(await actorFor(other.admin.id), ZCreateApiTokenRequestSchema.parse({ applicationId: other.application.id, name: uniq("ci"), roles: ["OPS"] }));
    await revokeRole(other.admin, { membershipId: ops.id });
    await expectAppError(authenticate(plaintext), "UNAUTHENTICATED", /no longer holds its roles/);

    // A token an administrator minted before this rule, with roles they never held: it no longer works either.
    const legacy = `rgt_${"L".repeat(43)}`;
    await db.apiToken.create({
      data: { applicationId: other.application.id, name: uniq("legacy"), prefix: legacy.slice(0, 10), tokenHash: hashCredential(legacy), roles: ["DEVELOPER", "OPS"], createdById: other.admin.id },
    });
    await expectAppError(authenticate(legacy), "UNAUTHENTICATED", /no longer holds its roles/);
  });

  it("records when it was last used, at most once a minute", async () => {
    const { token, plaintext } = await createApiToken(dev, request());
    await authenticate(plaintext);
    const first = (await db.apiToken.findUniqueOrThrow({ where: { id: token.id } })).lastUsedAt!;
    expect(first.getTime()).toBeGreaterThan(Date.now() - 10_000);
    await authenticate(plaintext);
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: token.id } })).lastUsedAt).toEqual(first);

    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: twoMinutesAgo } });
    await authenticate(plaintext);
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: token.id } })).lastUsedAt!.getTime()).toBeGreaterThan(twoMinutesAgo.getTime() + 60_000);
  });
});

describe("listing tokens", () => {
  it("shows each token's state, creator and roles, never its hash", async () => {
    const app = await createTenant();
    const owner = await createMember(app, "OPS");
    const base = { applicationId: app.application.id, roles: ["OPS"] };
    const active = await createApiToken(owner, ZCreateApiTokenRequestSchema.parse({ ...base, name: "active-one" }));
    const revoked = await createApiToken(owner, ZCreateApiTokenRequestSchema.parse({ ...base, name: "revoked-one" }));
    const expired = await createApiToken(owner, ZCreateApiTokenRequestSchema.parse({ ...base, name: "expired-one", expiresInDays: 1 }));
    await revokeApiToken(owner, { tokenId: revoked.token.id });
    await db.apiToken.update({ where: { id: expired.token.id }, data: { expiresAt: new Date(Date.now() - 1) } });

    const list = await listApiTokens(owner, app.application.id);
    expect(list.map((t) => [t.name, t.state])).toEqual([
      ["expired-one", "expired"],
      ["revoked-one", "revoked"],
      ["active-one", "active"],
    ]);
    expect(list[2]).toMatchObject({ id: active.token.id, roles: ["OPS"], createdBy: { id: owner.id } });
    expect(JSON.stringify(list)).not.toMatch(/tokenHash/);
    await expectAppError(listApiTokens(await createMember(app, "AUDITOR"), app.application.id), "FORBIDDEN");
  });
});
