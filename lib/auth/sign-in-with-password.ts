import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import { db } from "../db/client";
import { env } from "../env";
import { AppError, isAppError } from "../errors";
import { type RequestContext, systemActor } from "./actor";
import { verifyPassword } from "./password";
import { toUserActor } from "./session";
import { tallyThrottledSignIn } from "./report-throttled-sign-ins";
import { takeSignInAttempt } from "./throttle";

/** RFC 5321's limit on an address, and the most a user's email may be (lib/users/user-fields.ts). */
const MAX_EMAIL = 254;
/** Far above the password policy's 256 (a sign-in never refuses a password that policy once allowed), and small
 * enough that no request makes argon2 hash megabytes. */
const MAX_PASSWORD = 1024;

export const ZSignInRequestSchema = z.object({
  email: z.string().trim().toLowerCase().max(MAX_EMAIL, "Enter a valid email address.").pipe(z.email("Enter a valid email address.")),
  password: z.string().min(1, "Enter your password.").max(MAX_PASSWORD),
});

export interface SignInResult {
  userId: string;
  sessionId: string;
  sessionVersion: number;
}

const WRONG = "Wrong email or password.";

/**
 * The email and password to check, or why the attempt fails without a check. Over-long input is no typo to point
 * out: it can only be a probe, so it fails as a wrong password does (counted, audited, the same answer). The email
 * is capped before it goes anywhere: into the throttle's keys (an indexed column refuses a row over 2.7 kB) and into
 * the audit record.
 */
function readCredentials(input: unknown): { email: string; password: string; overLong: string | null } {
  const parsed = ZSignInRequestSchema.safeParse(input);
  if (parsed.success) return { ...parsed.data, overLong: null };
  const issues = parsed.error.issues;
  if (!issues.every((i) => i.code === "too_big")) throw new AppError("INVALID_INPUT", issues[0]?.message ?? WRONG);
  // Both fields are strings here: any other type is an invalid_type issue, not too_big.
  const raw = input as { email: string; password: string };
  const email = raw.email.trim().toLowerCase().slice(0, MAX_EMAIL);
  const overLong = issues.some((i) => i.path[0] === "email") ? `email longer than ${MAX_EMAIL} characters` : `password longer than ${MAX_PASSWORD} characters`;
  return { email, password: "", overLong };
}

/**
 * Checks a password sign-in and opens a new server-side session for it (a fresh session id on every sign-in).
 * Throws UNAUTHENTICATED with one message for an unknown email, a wrong password, over-long input and a disabled
 * account alike: each is a counted failure (lib/auth/throttle.ts) with an audit event that says which it was, and
 * the caller cannot tell them apart. Throws TOO_MANY_REQUESTS when throttled (tallied per address and window, not
 * audited one by one).
 */
export async function signInWithPassword(input: unknown, ctx: RequestContext): Promise<SignInResult> {
  const { email, password, overLong } = readCredentials(input);
  const failAudit = (reason: string, userId?: string) =>
    db.$transaction((tx) =>
      recordAuditEvent(tx, systemActor("sign-in", ctx), {
        type: "USER_SIGN_IN_FAILED",
        object: { type: "User", id: userId ?? null },
        summary: `failed sign-in as ${email}: ${reason}`,
        data: { email, reason },
      }),
    );

  let attempt;
  try {
    attempt = await takeSignInAttempt(email, ctx.ip);
  } catch (e) {
    // Tallied, not audited one by one: anyone can send refused attempts without end (report-throttled-sign-ins.ts).
    if (isAppError(e) && e.code === "TOO_MANY_REQUESTS") await tallyThrottledSignIn(email, ctx.ip);
    throw e;
  }

  const user = overLong ? null : await db.user.findUnique({ where: { email } });
  const ok = !overLong && (await verifyPassword(user?.passwordHash ?? null, password));
  // A disabled account's right password is a failure like any other: given back, it let anyone check that
  // account's passwords (and write audit events) without limit. Said the same way, so it tells nothing either.
  if (overLong || !user || !ok || user.status !== "ACTIVE") {
    await attempt.settle("failed");
    await failAudit(overLong ?? (!user ? "unknown account" : !ok ? "wrong password" : "account disabled"), user?.id);
    throw new AppError("UNAUTHENTICATED", WRONG);
  }

  await attempt.settle("succeeded");
  const maxAgeMs = env().SESSION_MAX_AGE_HOURS * 3_600_000;
  const session = await db.$transaction(async (tx) => {
    const created = await tx.authSession.create({
      data: { userId: user.id, ip: ctx.ip, userAgent: ctx.userAgent, expiresAt: new Date(Date.now() + maxAgeMs) },
    });
    await tx.user.update({ where: { id: user.id }, data: { lastSignInAt: new Date() } });
    await recordAuditEvent(tx, toUserActor({ ...user, memberships: [] }, created.id, ctx), {
      type: "USER_SIGNED_IN",
      object: { type: "User", id: user.id },
      summary: `${user.email} signed in`,
      data: { sessionId: created.id },
    });
    return created;
  });
  return { userId: user.id, sessionId: session.id, sessionVersion: user.sessionVersion };
}
