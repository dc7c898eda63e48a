// Accounts as administrators and their owners manage them: one-time passwords, password changes and resets,
// disabling, and what each does to open sessions.
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createAdmin, createTenant, createUserRow, testContext, testIp, uniq } from "../../test/factories";
import type { UserActor } from "../auth/actor";
import { loadSessionActor, type SessionClaims } from "../auth/session";
import { signInWithPassword } from "../auth/sign-in-with-password";
import { db } from "../db/client";
import { env } from "../env";
import { AppError } from "../errors";
import { changeOwnPassword, ZChangeOwnPasswordRequestSchema } from "./change-own-password";
import { createUser, ZCreateUserRequestSchema } from "./create-user";
import { resetUserPassword } from "./reset-user-password";
import { setUserStatus } from "./set-user-status";

const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a different passphrase 42";

let admin: UserActor;

beforeAll(async () => {
  admin = await createAdmin();
});

async function signIn(email: string, password: string): Promise<{ claims: SessionClaims; actor: UserActor }> {
  const r = await signInWithPassword({ email, password }, testContext());
  const claims = { uid: r.userId, sid: r.sessionId, sv: r.sessionVersion };
  const actor = await loadSessionActor(claims, testContext());
  if (!actor) throw new Error("a fresh session did not load");
  return { claims, actor };
}

const stillSignedIn = async (claims: SessionClaims) => (await loadSessionActor(claims, testContext())) !== null;

describe("createUser", () => {
  it("returns a one-time password that signs in, and the person must choose their own first", async () => {
    const email = `${uniq("new")}@example.test`;
    const { user, oneTimePassword } = await createUser(admin, ZCreateUserRequestSchema.parse({ name: "New Person", email }));
    expect(user).toMatchObject({ email, name: "New Person", status: "ACTIVE", isPlatformAdmin: false, customerId: null, mustChangePassword: true });
    expect(oneTimePassword).toMatch(/^[a-zA-Z2-9]{5}(-[a-zA-Z2-9]{5}){3}$/);
    // Never stored in clear.
    expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).not.toContain(oneTimePassword);

    const { actor } = await signIn(email, oneTimePassword);
    expect(actor.id).toBe(user.id);
    expect(actor.mustChangePassword).toBe(true);
  });

  it("stores the email lower-cased and trimmed, and can place the person in a customer organisation", async () => {
    const { customer } = await createTenant();
    const local = uniq("Mixed.Case");
    const { user } = await createUser(admin, ZCreateUserRequestSchema.parse({ name: " Tester ", email: `  ${local}@Example.TEST `, customerId: customer.id }));
    expect(user.email).toBe(`${local.toLowerCase()}@example.test`);
    expect(user.name).toBe("Tester");
    expect(user.customerId).toBe(customer.id);
  });

  it("refuses an email that is taken, in any letter case", async () => {
    const existing = await createUserRow();
    const error = await expectAppError(
      createUser(admin, ZCreateUserRequestSchema.parse({ name: "Twin", email: existing.email.toUpperCase() })),
      "CONFLICT",
    );
    expect(error.message).toBe(`A user with the email ${existing.email} already exists.`);
    expect(await db.user.count({ where: { email: existing.email } })).toBe(1);
  });

  it("is NOT_FOUND for a customer that does not exist, and creates nobody", async () => {
    const email = `${uniq("orphan")}@example.test`;
    await expectAppError(
      createUser(admin, ZCreateUserRequestSchema.parse({ name: "Orphan", email, customerId: "00000000-0000-4000-8000-000000000000" })),
      "NOT_FOUND",
    );
    expect(await db.user.count({ where: { email } })).toBe(0);
  });
});

describe("changeOwnPassword", () => {
  const request = (currentPassword: string, newPassword = NEW_PASSWORD) =>
    ZChangeOwnPasswordRequestSchema.parse({ currentPassword, newPassword, confirmPassword: newPassword });

  it("refuses a wrong current password as INVALID_INPUT, pointing at that field, and keeps the old password", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const { actor } = await signIn(user.email, PASSWORD);
    const error = await expectAppError(changeOwnPassword(actor, request("not my password")), "INVALID_INPUT", "Your current password is not correct.");
    expect(error.fieldErrors).toEqual({ currentPassword: ["Not correct."] });
    await expect(signIn(user.email, PASSWORD)).resolves.toBeDefined();
    await expectAppError(signInWithPassword({ email: user.email, password: NEW_PASSWORD }, testContext()), "UNAUTHENTICATED");
  });

  it("clears mustChangePassword, signs out every other session, and keeps the current one", async () => {
    const { user, oneTimePassword } = await createUser(admin, ZCreateUserRequestSchema.parse({ name: "Invited", email: `${uniq("invited")}@example.test` }));
    const current = await signIn(user.email, oneTimePassword);
    const other = await signIn(user.email, oneTimePassword);

    await changeOwnPassword(current.actor, request(oneTimePassword));

    expect(await stillSignedIn(current.claims)).toBe(true);
    expect(await stillSignedIn(other.claims)).toBe(false);
    expect((await loadSessionActor(current.claims, testContext()))?.mustChangePassword).toBe(false);
    await expectAppError(signInWithPassword({ email: user.email, password: oneTimePassword }, testContext()), "UNAUTHENTICATED");
    await expect(signIn(user.email, NEW_PASSWORD)).resolves.toBeDefined();
  });

  // A stolen session must not become a way around the sign-in limits: the current password is checked under the very
  // counters sign-in uses (lib/auth/throttle.ts), and each wrong one is audited.
  it("audits a wrong current password, and after the sign-in limit even the right one waits, as it would at sign-in", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ip = testIp();
    const { actor: signedIn } = await signIn(user.email, PASSWORD);
    const actor = { ...signedIn, ctx: { ...signedIn.ctx, ip } };
    const limit = env().LOGIN_MAX_FAILURES_PER_ACCOUNT_IP;
    for (let i = 0; i < limit; i++) await expectAppError(changeOwnPassword(actor, request(`wrong guess ${i}`)), "INVALID_INPUT", "Your current password is not correct.");

    const failures = await db.auditEvent.findMany({ where: { ip, type: "USER_PASSWORD_CHANGE_FAILED" } });
    expect(failures).toHaveLength(limit);
    expect(failures[0]).toMatchObject({ actorType: "USER", actorId: user.id, objectType: "User", objectId: user.id });
    expect(failures[0]!.summary).toBe(`${user.email} gave a wrong current password when changing it`);

    await expectAppError(changeOwnPassword(actor, request(PASSWORD)), "TOO_MANY_REQUESTS", /^Too many failed sign-ins\. Try again in \d+ minutes?\.$/);
    await expectAppError(signInWithPassword({ email: user.email, password: PASSWORD }, { ...testContext(), ip }), "TOO_MANY_REQUESTS");
    await expect(signIn(user.email, PASSWORD)).resolves.toBeDefined(); // the password did not change
  });

  it("checks at most the limit of current passwords when many guesses arrive at once", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const { actor: signedIn } = await signIn(user.email, PASSWORD);
    const actor = { ...signedIn, ctx: { ...signedIn.ctx, ip: testIp() } };
    const limit = env().LOGIN_MAX_FAILURES_PER_ACCOUNT_IP;
    const settled = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => changeOwnPassword(actor, request(`wrong guess ${i}`))));
    const codes = settled.map((r) => (r.status === "rejected" && r.reason instanceof AppError ? r.reason.code : "other"));
    expect(codes.filter((c) => c === "INVALID_INPUT")).toHaveLength(limit);
    expect(codes.filter((c) => c === "TOO_MANY_REQUESTS")).toHaveLength(30 - limit);
  });

  it("the schema refuses a weak, mismatched or unchanged new password", () => {
    const parse = (v: Record<string, string>) => ZChangeOwnPasswordRequestSchema.safeParse(v).error?.issues.map((i) => [i.path.join("."), i.message]);
    expect(parse({ currentPassword: PASSWORD, newPassword: "short", confirmPassword: "short" })).toEqual([["newPassword", "Use at least 12 characters."]]);
    expect(parse({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: `${NEW_PASSWORD}!` })).toEqual([["confirmPassword", "The two passwords differ."]]);
    expect(parse({ currentPassword: PASSWORD, newPassword: PASSWORD, confirmPassword: PASSWORD })).toEqual([["newPassword", "Choose a new password."]]);
  });
});

describe("resetUserPassword", () => {
  it("signs the person out everywhere and gives a one-time password that replaces the old one", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const a = await signIn(user.email, PASSWORD);
    const b = await signIn(user.email, PASSWORD);

    const { oneTimePassword, user: updated } = await resetUserPassword(admin, { userId: user.id });

    expect(updated.mustChangePassword).toBe(true);
    expect(await stillSignedIn(a.claims)).toBe(false);
    expect(await stillSignedIn(b.claims)).toBe(false);
    await expectAppError(signInWithPassword({ email: user.email, password: PASSWORD }, testContext()), "UNAUTHENTICATED");
    const fresh = await signIn(user.email, oneTimePassword);
    expect(fresh.actor.mustChangePassword).toBe(true);
  });

  it("is NOT_FOUND for a user that does not exist", async () => {
    await expectAppError(resetUserPassword(admin, { userId: "00000000-0000-4000-8000-000000000000" }), "NOT_FOUND");
  });
});

describe("setUserStatus", () => {
  it("disabling twice is a CONFLICT the second time; so is enabling twice", async () => {
    const user = await createUserRow();
    await setUserStatus(admin, { userId: user.id, status: "DISABLED" });
    await expectAppError(setUserStatus(admin, { userId: user.id, status: "DISABLED" }), "CONFLICT", `${user.email} is already disabled.`);
    await setUserStatus(admin, { userId: user.id, status: "ACTIVE" });
    await expectAppError(setUserStatus(admin, { userId: user.id, status: "ACTIVE" }), "CONFLICT", `${user.email} is already active.`);
    expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).status).toBe("ACTIVE");
  });

  it("two admins disabling at once: exactly one succeeds", async () => {
    const user = await createUserRow();
    const other = await createAdmin();
    const results = await Promise.allSettled([
      setUserStatus(admin, { userId: user.id, status: "DISABLED" }),
      setUserStatus(other, { userId: user.id, status: "DISABLED" }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const audit = await db.auditEvent.count({ where: { objectId: user.id, type: "USER_DISABLED" } });
    expect(audit).toBe(1);
  });

  it("an admin cannot disable themselves", async () => {
    const self = await createAdmin();
    await expectAppError(setUserStatus(self, { userId: self.id, status: "DISABLED" }), "CONFLICT", "You cannot disable your own account.");
    expect((await db.user.findUniqueOrThrow({ where: { id: self.id } })).status).toBe("ACTIVE");
  });

  it("a disabled person is signed out at once and cannot sign in until enabled again", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const { claims } = await signIn(user.email, PASSWORD);
    await setUserStatus(admin, { userId: user.id, status: "DISABLED" });
    expect(await stillSignedIn(claims)).toBe(false);
    await expectAppError(signInWithPassword({ email: user.email, password: PASSWORD }, testContext()), "UNAUTHENTICATED", "Wrong email or password.");
    await setUserStatus(admin, { userId: user.id, status: "ACTIVE" });
    await expect(signIn(user.email, PASSWORD)).resolves.toBeDefined();
  });

  it("is NOT_FOUND for a user that does not exist", async () => {
    await expectAppError(setUserStatus(admin, { userId: "00000000-0000-4000-8000-000000000000", status: "DISABLED" }), "NOT_FOUND");
  });
});
