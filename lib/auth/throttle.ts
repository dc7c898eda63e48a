import "server-only";
import { RateLimiterPrisma, RateLimiterRes } from "rate-limiter-flexible";
import { db } from "../db/client";
import { env } from "../env";
import { AppError } from "../errors";

// Failed sign-ins are counted three ways (OWASP's "login endpoint protection"):
//  - per account and address: stops guessing one password from one place, and is the only limit a real user
//    meets after mistyping: it blocks that address until LOGIN_BLOCK_MINUTES after the first failure of the
//    window (the message gives the real remaining wait), not the account everywhere;
//  - per account over all addresses: caps distributed guessing at LOGIN_MAX_FAILURES_PER_ACCOUNT per window, so an
//    attacker can lock a real user out for at most one window;
//  - per address over all accounts: stops spraying one password over many accounts.
// Counters live in PostgreSQL (model RateLimit) so they hold across control-plane instances.

interface Limiters {
  accountIp: RateLimiterPrisma;
  account: RateLimiterPrisma;
  ip: RateLimiterPrisma;
}

let limiters: Limiters | undefined;

function getLimiters(): Limiters {
  if (limiters) return limiters;
  const e = env();
  const duration = e.LOGIN_BLOCK_MINUTES * 60;
  const make = (keyPrefix: string, points: number) =>
    new RateLimiterPrisma({ storeClient: db, tableName: "rateLimit", keyPrefix, points, duration, blockDuration: duration });
  limiters = {
    accountIp: make("login_account_ip", e.LOGIN_MAX_FAILURES_PER_ACCOUNT_IP),
    account: make("login_account", e.LOGIN_MAX_FAILURES_PER_ACCOUNT),
    ip: make("login_ip", e.LOGIN_MAX_FAILURES_PER_IP),
  };
  return limiters;
}

const keys = (email: string, ip: string | null) => ({
  accountIp: `${email}|${ip ?? "unknown"}`,
  account: email,
  ip: ip ?? "unknown",
});

function minutes(ms: number): string {
  const m = Math.max(1, Math.ceil(ms / 60_000));
  return m === 1 ? "1 minute" : `${m} minutes`;
}

/** Throws TOO_MANY_REQUESTS with a readable wait time when any counter for this attempt is exhausted. */
export async function assertSignInAllowed(email: string, ip: string | null): Promise<void> {
  const l = getLimiters();
  const k = keys(email, ip);
  const [accountIp, account, byIp] = await Promise.all([l.accountIp.get(k.accountIp), l.account.get(k.account), l.ip.get(k.ip)]);
  const blocked = [
    { res: accountIp, max: l.accountIp.points },
    { res: account, max: l.account.points },
    { res: byIp, max: l.ip.points },
  ].filter(({ res, max }) => res !== null && res.consumedPoints >= max);
  if (blocked.length > 0) {
    const wait = Math.max(...blocked.map(({ res }) => res!.msBeforeNext));
    throw new AppError("TOO_MANY_REQUESTS", `Too many failed sign-ins. Try again in ${minutes(wait)}.`);
  }
}

/** Counts one failed sign-in against all three limits. */
export async function recordFailedSignIn(email: string, ip: string | null): Promise<void> {
  const l = getLimiters();
  const k = keys(email, ip);
  await Promise.all(
    [l.accountIp.penalty(k.accountIp), l.account.penalty(k.account), l.ip.penalty(k.ip)].map((p) =>
      p.catch((e: unknown) => {
        if (e instanceof RateLimiterRes) return e; // already over the limit: nothing more to count
        throw e;
      }),
    ),
  );
}

/** A successful sign-in clears the consecutive-failure count for this account from this address. */
export async function recordSuccessfulSignIn(email: string, ip: string | null): Promise<void> {
  await getLimiters().accountIp.delete(keys(email, ip).accountIp);
}
