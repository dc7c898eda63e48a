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

export const ZSignInRequestSchema = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email("Enter a valid email address.")),
  password: z.string().min(1, "Enter your password.").max(256),
});

export interface SignInResult {
  userId: string;
  sessionId: string;
  sessionVersion: number;
}

const WRONG = "Wrong email or password.";

/**
 * Checks a password sign-in and opens a new server-side session for it (a fresh session id on every sign-in).
 * Throws UNAUTHENTICATED with one message for unknown email and wrong password alike (each such password check is
 * audited), TOO_MANY_REQUESTS when throttled (tallied per address and window, not audited one by one), FORBIDDEN for a disabled account (said only after the right password, so it leaks nothing).
 */
export async function signInWithPassword(input: unknown, ctx: RequestContext): Promise<SignInResult> {
  const parsed = ZSignInRequestSchema.safeParse(input);
  if (!parsed.success) throw new AppError("INVALID_INPUT", parsed.error.issues[0]?.message ?? WRONG);
  const { email, password } = parsed.data;
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

  const user = await db.user.findUnique({ where: { email } });
  const ok = await verifyPassword(user?.passwordHash ?? null, password);
  if (!user || !ok) {
    await attempt.settle("wrong-password");
    await failAudit(user ? "wrong password" : "unknown account", user?.id);
    throw new AppError("UNAUTHENTICATED", WRONG);
  }
  if (user.status !== "ACTIVE") {
    await attempt.settle("not-counted");
    await failAudit("account disabled", user.id);
    throw new AppError("FORBIDDEN", "This account is disabled. Ask your administrator to enable it.");
  }

  await attempt.settle("right-password");
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
