// Sign-in throttling as a person meets it. Every test uses its own account and addresses, so files can run in
// parallel; the limits are the defaults from lib/env.ts (the integration environment does not override them).
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createAdmin, createUserRow, testContext, testIp } from "../../test/factories";
import { db } from "../db/client";
import { env } from "../env";
import { setUserStatus } from "../users/set-user-status";
import { reportThrottledSignIns, throttleWindowStart } from "./report-throttled-sign-ins";
import { signInWithPassword } from "./sign-in-with-password";

const PASSWORD = "correct horse battery staple";
let limit: number;

beforeAll(() => {
  limit = env().LOGIN_MAX_FAILURES_PER_ACCOUNT_IP;
  // The tests below assume the per-account+address limit is the one that trips first.
  expect(limit).toBeLessThan(env().LOGIN_MAX_FAILURES_PER_ACCOUNT);
  expect(limit).toBeLessThan(env().LOGIN_MAX_FAILURES_PER_IP);
});

const attempt = (email: string, password: string, ip: string) => signInWithPassword({ email, password }, { ...testContext(), ip });

async function failTimes(email: string, ip: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await expectAppError(attempt(email, "wrong password!", ip), "UNAUTHENTICATED");
}

describe("sign-in throttling", () => {
  it("after the limit of wrong passwords from one address, even the right password is refused with a wait time", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ip = testIp();
    await failTimes(user.email, ip, limit);

    const refused = await expectAppError(attempt(user.email, PASSWORD, ip), "TOO_MANY_REQUESTS");
    const minutes = Number(/^Too many failed sign-ins\. Try again in (\d+) minutes?\.$/.exec(refused.message)?.[1]);
    expect(minutes).toBeGreaterThanOrEqual(1);
    expect(minutes).toBeLessThanOrEqual(env().LOGIN_BLOCK_MINUTES);
    expect(await db.authSession.count({ where: { userId: user.id } })).toBe(0);

    // Still refused on the next try: the block holds, it is not a one-off.
    await expectAppError(attempt(user.email, PASSWORD, ip), "TOO_MANY_REQUESTS");
  });

  it("the attempt before the limit is still judged on its password", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ip = testIp();
    await failTimes(user.email, ip, limit - 1);
    await expect(attempt(user.email, PASSWORD, ip)).resolves.toMatchObject({ userId: user.id });
  });

  it("an attacker blocked on one address cannot lock the real user out from another", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const attacker = testIp();
    await failTimes(user.email, attacker, limit);
    await expectAppError(attempt(user.email, PASSWORD, attacker), "TOO_MANY_REQUESTS");

    await expect(attempt(user.email, PASSWORD, testIp())).resolves.toMatchObject({ userId: user.id });
  });

  it("a blocked address can still sign in to a different account", async () => {
    const victim = await createUserRow({ password: PASSWORD });
    const colleague = await createUserRow({ password: PASSWORD });
    const ip = testIp();
    await failTimes(victim.email, ip, limit);
    await expectAppError(attempt(victim.email, PASSWORD, ip), "TOO_MANY_REQUESTS");
    await expect(attempt(colleague.email, PASSWORD, ip)).resolves.toMatchObject({ userId: colleague.id });
  });

  it("a successful sign-in resets the consecutive count for that account and address", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ip = testIp();
    await failTimes(user.email, ip, limit - 1);
    await attempt(user.email, PASSWORD, ip);
    // Without the reset this would be well past the limit.
    await failTimes(user.email, ip, limit - 1);
    await expect(attempt(user.email, PASSWORD, ip)).resolves.toMatchObject({ userId: user.id });
  });

  it("counts the email case-insensitively, so changing case does not buy more guesses", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ip = testIp();
    for (let i = 0; i < limit; i++) {
      const email = i % 2 === 0 ? user.email.toUpperCase() : user.email;
      await expectAppError(attempt(email, "wrong password!", ip), "UNAUTHENTICATED");
    }
    await expectAppError(attempt(user.email, PASSWORD, ip), "TOO_MANY_REQUESTS");
  });

  it("throttles guesses at an unknown account the same way, so the response does not reveal which emails exist", async () => {
    const email = `nobody-${testIp()}@example.test`;
    const ip = testIp();
    await failTimes(email, ip, limit);
    await expectAppError(attempt(email, PASSWORD, ip), "TOO_MANY_REQUESTS");
  });

  it("the right password of a disabled account counts as a failure and reads as a wrong one: no endless checks, no audit flood", async () => {
    const user = await createUserRow({ password: PASSWORD });
    await setUserStatus(await createAdmin(), { userId: user.id, status: "DISABLED" });
    const ip = testIp();
    for (let i = 0; i < limit; i++) await expectAppError(attempt(user.email, PASSWORD, ip), "UNAUTHENTICATED", "Wrong email or password.");
    await expectAppError(attempt(user.email, PASSWORD, ip), "TOO_MANY_REQUESTS");
    expect(await db.auditEvent.count({ where: { ip, type: "USER_SIGN_IN_FAILED" } })).toBe(limit);
  });

  it("an over-long password is a plain failed attempt: read as a wrong password, counted, audited", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ip = testIp();
    for (let i = 0; i < limit; i++) await expectAppError(attempt(user.email, "x".repeat(5000), ip), "UNAUTHENTICATED", "Wrong email or password.");
    await expectAppError(attempt(user.email, PASSWORD, ip), "TOO_MANY_REQUESTS");
    const events = await db.auditEvent.findMany({ where: { ip, type: "USER_SIGN_IN_FAILED" } });
    expect(events).toHaveLength(limit);
    expect(events[0]?.data).toMatchObject({ email: user.email, reason: "password longer than 1024 characters" });
  });

  it("an over-long email is a plain failed attempt too: no database error, counted, and the audit keeps only its first 254 characters", async () => {
    const ip = testIp();
    // Random, so PostgreSQL cannot compress it below its index's row size limit (error 54000 before the bound).
    const email = `${randomBytes(3000).toString("hex")}@example.test`;
    for (let i = 0; i < limit; i++) await expectAppError(attempt(email, PASSWORD, ip), "UNAUTHENTICATED", "Wrong email or password.");
    await expectAppError(attempt(email, PASSWORD, ip), "TOO_MANY_REQUESTS");
    const events = await db.auditEvent.findMany({ where: { ip, type: "USER_SIGN_IN_FAILED" } });
    expect(events).toHaveLength(limit);
    for (const e of events) {
      expect(e.data).toEqual({ email: email.slice(0, 254), reason: "email longer than 254 characters" });
      expect(e.summary.length).toBeLessThan(400);
    }
  });

  it("writes no audit event per refused attempt, so nobody can flood the permanent record by asking", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ip = testIp();
    await failTimes(user.email, ip, limit);
    const before = await db.auditEvent.count({ where: { ip } });
    expect(before).toBe(limit); // one per real password check
    await Promise.all(Array.from({ length: 40 }, () => expectAppError(attempt(user.email, PASSWORD, ip), "TOO_MANY_REQUESTS")));
    expect(await db.auditEvent.count({ where: { ip } })).toBe(before);
  });

  it("reports the refused attempts of each address once its window is over: one event with the count and the accounts", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ip = testIp();
    await failTimes(user.email, ip, limit);
    const first = throttleWindowStart(new Date());
    await Promise.all(Array.from({ length: 25 }, () => expectAppError(attempt(user.email, PASSWORD, ip), "TOO_MANY_REQUESTS")));
    const current = throttleWindowStart(new Date());
    const windowMs = env().LOGIN_BLOCK_MINUTES * 60_000;
    const reported = () => db.auditEvent.findMany({ where: { ip, type: "USER_SIGN_IN_THROTTLED" }, orderBy: { seq: "asc" } });

    // Nothing is reported for a window that still runs.
    await reportThrottledSignIns();
    expect((await reported()).filter((e) => (e.data as { windowStart: string }).windowStart === current.toISOString())).toEqual([]);

    await reportThrottledSignIns({ now: new Date(current.getTime() + windowMs + 1000) });
    const events = await reported();
    // One event per window: one, or two when the attempts happened to straddle the windows' boundary.
    expect(events).toHaveLength(first.getTime() === current.getTime() ? 1 : 2);
    expect(events.reduce((n, e) => n + (e.data as { attempts: number }).attempts, 0)).toBe(25);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ actorType: "SYSTEM", actorLabel: "system: sign-in throttling", objectType: "Address", objectId: ip });
    expect(last.data).toMatchObject({ ip, accounts: [user.email], windowStart: current.toISOString(), windowEnd: new Date(current.getTime() + windowMs).toISOString() });
    expect(last.summary).toMatch(new RegExp(`^refused \\d+ sign-in attempts? from ${ip.replaceAll(".", "\\.")} between \\d\\d:\\d\\d and \\d\\d:\\d\\d UTC \\(too many failures\\): ${user.email}$`));

    // Reported once: another run (another instance, say) finds nothing left to report.
    await reportThrottledSignIns({ now: new Date(current.getTime() + 2 * windowMs) });
    expect(await reported()).toHaveLength(events.length);
  });

});

// An attacker does not wait for one answer before sending the next guess. However many attempts arrive at once, no
// more passwords are checked than the limit allows: each attempt takes its place in every counter before its
// password is looked at. A password check shows from outside as "Wrong email or password." (and its audit event);
// a refused attempt as "Too many failed sign-ins".
describe("sign-in throttling under parallel attempts", () => {
  const outcomes = async (attempts: Promise<unknown>[]) => {
    const settled = await Promise.allSettled(attempts);
    const codes = settled.map((s) => (s.status === "fulfilled" ? "SIGNED_IN" : s.reason instanceof Error && "code" in s.reason ? String(s.reason.code) : String(s.reason)));
    return {
      checkedWrong: codes.filter((c) => c === "UNAUTHENTICATED").length,
      throttled: codes.filter((c) => c === "TOO_MANY_REQUESTS").length,
      signedIn: codes.filter((c) => c === "SIGNED_IN").length,
      other: codes.filter((c) => !["UNAUTHENTICATED", "TOO_MANY_REQUESTS", "SIGNED_IN"].includes(c)),
    };
  };
  const wrongPasswordEvents = (email: string) =>
    db.auditEvent.count({ where: { type: "USER_SIGN_IN_FAILED", data: { path: ["email"], equals: email }, summary: { endsWith: "wrong password" } } });

  it("30 guesses at once from one address get at most the per-account-and-address limit of password checks", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ip = testIp();
    const result = await outcomes(Array.from({ length: 30 }, () => attempt(user.email, "wrong password!", ip)));
    expect(result).toEqual({ checkedWrong: limit, throttled: 30 - limit, signedIn: 0, other: [] });
    expect(await wrongPasswordEvents(user.email)).toBe(limit);
    // And the right password from there waits too: the limit was reached.
    await expectAppError(attempt(user.email, PASSWORD, ip), "TOO_MANY_REQUESTS");
  });

  it("guesses at one account from many addresses at once get at most the per-account limit of password checks", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const perAccount = env().LOGIN_MAX_FAILURES_PER_ACCOUNT;
    const n = perAccount + 15;
    const result = await outcomes(Array.from({ length: n }, () => attempt(user.email, "wrong password!", testIp())));
    expect(result).toEqual({ checkedWrong: perAccount, throttled: n - perAccount, signedIn: 0, other: [] });
    expect(await wrongPasswordEvents(user.email)).toBe(perAccount);
  });

  it("one address spraying many accounts at once gets at most the per-address limit of password checks", async () => {
    const ip = testIp();
    const perIp = env().LOGIN_MAX_FAILURES_PER_IP;
    const n = perIp + 15;
    const result = await outcomes(Array.from({ length: n }, (_, i) => attempt(`spray-${i}-${ip}@example.test`, "wrong password!", ip)));
    expect(result).toEqual({ checkedWrong: perIp, throttled: n - perIp, signedIn: 0, other: [] });
  }, 120_000); // over a hundred argon2 checks on a shared 2-core machine

  it("the right password sent together with mistyped ones, within the limit, signs in", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ip = testIp();
    const result = await outcomes([
      ...Array.from({ length: limit - 1 }, () => attempt(user.email, "wrong password!", ip)),
      attempt(user.email, PASSWORD, ip),
    ]);
    expect(result).toEqual({ checkedWrong: limit - 1, throttled: 0, signedIn: 1, other: [] });
  });

  it("refused attempts are not counted against the account, so one address cannot lock the account everywhere", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const attacker = testIp();
    // Far more refused attempts than the per-account limit, all from the one blocked address.
    await failTimes(user.email, attacker, limit);
    const refused = await outcomes(Array.from({ length: env().LOGIN_MAX_FAILURES_PER_ACCOUNT + 5 }, () => attempt(user.email, PASSWORD, attacker)));
    expect(refused.throttled).toBe(env().LOGIN_MAX_FAILURES_PER_ACCOUNT + 5);
    await expect(attempt(user.email, PASSWORD, testIp())).resolves.toMatchObject({ userId: user.id });
  });
});
