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
//
// INVARIANT: an attempt takes its place in all three counters (one atomic increment each, in the database) BEFORE
// its password is checked, and only the attempts that found every counter within its limit go on to the check.
// Checking first and counting afterwards let every attempt sent at once pass the check before any was counted
// (30 parallel guesses got 29 password checks against a limit of 10). Afterwards the attempt settles: a failure
// keeps its places (that is what is counted), a sign-in that succeeded gives them back (and clears the
// account-and-address count, as before), and a refused attempt gives back its places in the counters that still had
// room, so hammering a blocked address does not use up the account's own limit. Only a session opened gives a place
// back: the right password of an account that may not sign in (disabled) is a failure, or it would buy unlimited
// checks of that account's passwords.

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
  // No blockDuration: the wait ends with the window that began at its first failure, not a new one from the refusal.
  const make = (keyPrefix: string, points: number) => new RateLimiterPrisma({ storeClient: db, tableName: "rateLimit", keyPrefix, points, duration });
  limiters = {
    accountIp: make("login_account_ip", e.LOGIN_MAX_FAILURES_PER_ACCOUNT_IP),
    account: make("login_account", e.LOGIN_MAX_FAILURES_PER_ACCOUNT),
    ip: make("login_ip", e.LOGIN_MAX_FAILURES_PER_IP),
  };
  return limiters;
}

type Counter = keyof Limiters;
const COUNTERS: readonly Counter[] = ["accountIp", "account", "ip"];

const keys = (email: string, ip: string | null): Record<Counter, string> => ({
  accountIp: `${email}|${ip ?? "unknown"}`,
  account: email,
  ip: ip ?? "unknown",
});

function minutes(ms: number): string {
  const m = Math.max(1, Math.ceil(ms / 60_000));
  return m === 1 ? "1 minute" : `${m} minutes`;
}

/** Gives back one place in a counter, only within its current window (never below zero, never into a new window). */
async function giveBack(limiter: RateLimiterPrisma, key: string): Promise<void> {
  await db.rateLimit.updateMany({
    where: { key: limiter.getKey(key), points: { gt: 0 }, expire: { gt: new Date() } },
    data: { points: { decrement: 1 } },
  });
}

/** How an admitted attempt ended, for its counters. */
export type SignInOutcome =
  /** Anything but a sign-in (wrong password, unknown or disabled account, over-long input): the attempt stays counted. */
  | "failed"
  /** The password was right and served its purpose (a session opened, a password changed): the attempt is given back
   * and the account-and-address count starts again. */
  | "succeeded";

export interface SignInAttempt {
  settle(outcome: SignInOutcome): Promise<void>;
}

/**
 * Takes this attempt's place in every counter, atomically, before any password is looked at. Throws
 * TOO_MANY_REQUESTS with a readable wait time when any counter is over its limit (the places it took in the
 * counters that had room are given back: a refused attempt is no failure). Otherwise the caller checks the password
 * and must settle the returned attempt with what it found.
 */
export async function takeSignInAttempt(email: string, ip: string | null): Promise<SignInAttempt> {
  const l = getLimiters();
  const k = keys(email, ip);
  const taken = await Promise.all(
    COUNTERS.map((c) =>
      l[c].consume(k[c]).then(
        (res) => ({ counter: c, over: false, res }),
        (e: unknown) => {
          // consume rejects with the counter's state when this attempt took it over the limit.
          if (e instanceof RateLimiterRes) return { counter: c, over: true, res: e };
          throw e;
        },
      ),
    ),
  );
  const over = taken.filter((t) => t.over);
  if (over.length > 0) {
    // Given back only where it fitted. A counter it went over keeps it (harmless: the window does not move), so that
    // counter only ever grows and exactly the first `limit` attempts of a burst fit: giving it back there too would
    // let refusals still in flight push later attempts over early.
    await Promise.all(taken.filter((t) => !t.over).map((t) => giveBack(l[t.counter], k[t.counter])));
    const wait = Math.max(...over.map((t) => t.res.msBeforeNext));
    throw new AppError("TOO_MANY_REQUESTS", `Too many failed sign-ins. Try again in ${minutes(wait)}.`);
  }
  let settled = false;
  return {
    async settle(outcome) {
      if (settled) return;
      settled = true;
      if (outcome === "failed") return;
      // A person who got in is not the one guessing: their mistakes from this address are forgotten.
      await Promise.all([l.accountIp.delete(k.accountIp), giveBack(l.account, k.account), giveBack(l.ip, k.ip)]);
    },
  };
}
