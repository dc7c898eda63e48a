// Server-side sessions: what a signed cookie (claims) is worth on each request. Disabling a user, signing out,
// changing roles and bumping the session version must apply on the very next request.
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createTenant, createUserRow, testContext } from "../../test/factories";
import { db } from "../db/client";
import { grantRole } from "../memberships/grant-role";
import { revokeRole } from "../memberships/revoke-role";
import { setUserStatus } from "../users/set-user-status";
import { loadSessionActor, revokeSession, type SessionClaims } from "./session";
import { signInWithPassword } from "./sign-in-with-password";

type Tenant = Awaited<ReturnType<typeof createTenant>>;

const PASSWORD = "correct horse battery staple";
let tenant: Tenant;

beforeAll(async () => {
  tenant = await createTenant();
});

async function signedInUser(options: { customerId?: string | null } = {}) {
  const user = await createUserRow({ password: PASSWORD, customerId: options.customerId ?? null });
  const r = await signInWithPassword({ email: user.email, password: PASSWORD }, testContext());
  const claims: SessionClaims = { uid: r.userId, sid: r.sessionId, sv: r.sessionVersion };
  return { user, claims, result: r };
}

describe("signInWithPassword", () => {
  it("opens a server-side session for the user, bound to the request's address and browser", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ctx = { ...testContext(), ip: "198.51.100.7", userAgent: "Firefox" };
    const before = Date.now();
    const r = await signInWithPassword({ email: user.email, password: PASSWORD }, ctx);
    expect(r).toEqual({ userId: user.id, sessionId: expect.any(String), sessionVersion: user.sessionVersion });
    const session = await db.authSession.findUniqueOrThrow({ where: { id: r.sessionId } });
    expect(session).toMatchObject({ userId: user.id, ip: "198.51.100.7", userAgent: "Firefox", revokedAt: null });
    // SESSION_MAX_AGE_HOURS defaults to 12.
    expect(session.expiresAt.getTime()).toBeGreaterThan(before + 11 * 3_600_000);
    expect(session.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 12 * 3_600_000);
    expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).lastSignInAt).not.toBeNull();
  });

  it("accepts the email in any case and with surrounding spaces", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const r = await signInWithPassword({ email: `  ${user.email.toUpperCase()} `, password: PASSWORD }, testContext());
    expect(r.userId).toBe(user.id);
  });

  it("gives a fresh session id on every sign-in", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const a = await signInWithPassword({ email: user.email, password: PASSWORD }, testContext());
    const b = await signInWithPassword({ email: user.email, password: PASSWORD }, testContext());
    expect(a.sessionId).not.toBe(b.sessionId);
  });

  it("says the same for a wrong password and an unknown email", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const wrong = await expectAppError(signInWithPassword({ email: user.email, password: "not it at all" }, testContext()), "UNAUTHENTICATED");
    const unknown = await expectAppError(signInWithPassword({ email: `nobody-${user.email}`, password: PASSWORD }, testContext()), "UNAUTHENTICATED");
    expect(wrong.message).toBe("Wrong email or password.");
    expect(unknown.message).toBe(wrong.message);
    expect(await db.authSession.count({ where: { userId: user.id } })).toBe(0);
  });

  it("refuses malformed input as INVALID_INPUT", async () => {
    await expectAppError(signInWithPassword({ email: "not-an-email", password: PASSWORD }, testContext()), "INVALID_INPUT", "Enter a valid email address.");
    await expectAppError(signInWithPassword({ email: "a@example.test", password: "" }, testContext()), "INVALID_INPUT", "Enter your password.");
    await expectAppError(signInWithPassword(undefined, testContext()), "INVALID_INPUT");
  });

  it("refuses a disabled account with the right password exactly like a wrong one, and opens no session", async () => {
    const user = await createUserRow({ password: PASSWORD });
    await setUserStatus(tenant.admin, { userId: user.id, status: "DISABLED" });
    const wrong = await expectAppError(signInWithPassword({ email: user.email, password: "not it at all" }, testContext()), "UNAUTHENTICATED");
    const right = await expectAppError(signInWithPassword({ email: user.email, password: PASSWORD }, testContext()), "UNAUTHENTICATED");
    expect(right.message).toBe(wrong.message);
    expect(await db.authSession.count({ where: { userId: user.id } })).toBe(0);
    // The record still tells an auditor what happened.
    const events = await db.auditEvent.findMany({ where: { type: "USER_SIGN_IN_FAILED", objectId: user.id }, orderBy: { seq: "asc" } });
    expect(events.map((e) => (e.data as { reason: string }).reason)).toEqual(["wrong password", "account disabled"]);
  });
});

describe("loadSessionActor", () => {
  it("returns the signed-in actor with the session and request context", async () => {
    const { user, claims } = await signedInUser({ customerId: tenant.customer.id });
    const ctx = testContext();
    const actor = await loadSessionActor(claims, ctx);
    expect(actor).toMatchObject({
      type: "USER",
      id: user.id,
      email: user.email,
      name: user.name,
      isPlatformAdmin: false,
      customerId: tenant.customer.id,
      sessionId: claims.sid,
      mustChangePassword: false,
      ctx,
    });
    expect(actor?.roles.size).toBe(0);
  });

  it("returns null once the user is disabled, and re-enabling does not revive the old session", async () => {
    const { user, claims } = await signedInUser();
    await setUserStatus(tenant.admin, { userId: user.id, status: "DISABLED" });
    expect(await loadSessionActor(claims, testContext())).toBeNull();
    await setUserStatus(tenant.admin, { userId: user.id, status: "ACTIVE" });
    expect(await loadSessionActor(claims, testContext())).toBeNull();
  });

  it("returns null once the session is revoked (signed out), without touching the user's other sessions", async () => {
    const { user, claims } = await signedInUser();
    const other = await signInWithPassword({ email: user.email, password: PASSWORD }, testContext());
    await revokeSession(claims, testContext());
    expect(await loadSessionActor(claims, testContext())).toBeNull();
    expect(await loadSessionActor({ uid: user.id, sid: other.sessionId, sv: other.sessionVersion }, testContext())).not.toBeNull();
  });

  it("sees a granted or revoked role on the very next call", async () => {
    const { user, claims } = await signedInUser();
    const membership = await grantRole(tenant.admin, { applicationId: tenant.application.id, userId: user.id, role: "APPROVER" });
    const granted = await loadSessionActor(claims, testContext());
    expect([...(granted?.roles.get(tenant.application.id) ?? [])]).toEqual(["APPROVER"]);

    await grantRole(tenant.admin, { applicationId: tenant.application.id, userId: user.id, role: "OPS" });
    const two = await loadSessionActor(claims, testContext());
    expect([...(two?.roles.get(tenant.application.id) ?? [])].sort()).toEqual(["APPROVER", "OPS"]);

    await revokeRole(tenant.admin, { membershipId: membership.id });
    const revoked = await loadSessionActor(claims, testContext());
    expect([...(revoked?.roles.get(tenant.application.id) ?? [])]).toEqual(["OPS"]);
  });

  it("sees a platform-admin flag change on the next call", async () => {
    const { user, claims } = await signedInUser();
    await db.user.update({ where: { id: user.id }, data: { isPlatformAdmin: true } });
    expect((await loadSessionActor(claims, testContext()))?.isPlatformAdmin).toBe(true);
  });

  it("refuses claims from before a session-version bump, and accepts the current version", async () => {
    const { user, claims } = await signedInUser();
    await db.user.update({ where: { id: user.id }, data: { sessionVersion: { increment: 1 } } });
    expect(await loadSessionActor(claims, testContext())).toBeNull();
    expect(await loadSessionActor({ ...claims, sv: claims.sv + 1 }, testContext())).not.toBeNull();
  });

  it("returns null for an expired session", async () => {
    const { claims } = await signedInUser();
    await db.authSession.update({ where: { id: claims.sid }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await loadSessionActor(claims, testContext())).toBeNull();
  });

  it("returns null for a session id that does not exist or belongs to someone else", async () => {
    const mine = await signedInUser();
    const theirs = await signedInUser();
    expect(await loadSessionActor({ ...mine.claims, sid: "00000000-0000-4000-8000-000000000000" }, testContext())).toBeNull();
    expect(await loadSessionActor({ ...mine.claims, sid: theirs.claims.sid }, testContext())).toBeNull();
  });

  it("refreshes lastSeenAt when it is stale, for the admin's overview", async () => {
    const { claims } = await signedInUser();
    const stale = new Date(Date.now() - 60 * 60_000);
    await db.authSession.update({ where: { id: claims.sid }, data: { lastSeenAt: stale } });
    await loadSessionActor(claims, testContext());
    const session = await db.authSession.findUniqueOrThrow({ where: { id: claims.sid } });
    expect(session.lastSeenAt.getTime()).toBeGreaterThan(stale.getTime() + 50 * 60_000);
  });
});

describe("revokeSession", () => {
  it("marks the session revoked server-side, so a copied cookie stops working too", async () => {
    const { claims } = await signedInUser();
    await revokeSession(claims, testContext());
    expect((await db.authSession.findUniqueOrThrow({ where: { id: claims.sid } })).revokedAt).toBeInstanceOf(Date);
  });

  it("cannot revoke another user's session with forged claims", async () => {
    const victim = await signedInUser();
    const attacker = await signedInUser();
    await revokeSession({ ...attacker.claims, sid: victim.claims.sid }, testContext());
    expect(await loadSessionActor(victim.claims, testContext())).not.toBeNull();
  });
});
