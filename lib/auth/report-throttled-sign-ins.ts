import "server-only";
import { recordAuditEvent } from "../audit/record-audit-event";
import { db } from "../db/client";
import { env } from "../env";
import { log } from "../log";
import { runPeriodically } from "../util/periodic";
import { systemActor } from "./actor";

// A refused sign-in costs the caller nothing, so anyone can send millions. One permanent, append-only audit event
// each would let an unauthenticated client grow the record without bound and bury what matters. Instead refused
// attempts are tallied per address and window (a mutable counter row), and each window becomes one audit event with
// the count once it is over. Real password checks, which the limits keep few, still get an event each.

/** Accounts named in one window's event; an attacker spraying thousands is described by the first ones and the count. */
const MAX_ACCOUNTS = 20;
/** Windows reported per transaction: many addresses (a botnet) are reported over several. */
const BATCH = 200;
const TIMER_MS = 60_000;

const windowMs = () => env().LOGIN_BLOCK_MINUTES * 60_000;

/** The start of the reporting window `at` falls in: windows of LOGIN_BLOCK_MINUTES, aligned to the epoch. */
export function throttleWindowStart(at: Date): Date {
  return new Date(Math.floor(at.getTime() / windowMs()) * windowMs());
}

/**
 * Counts one refused attempt from `ip` at `email`'s account: one atomic upsert on the window's row. The first refusal
 * of a window is logged, so operators see throttling start without waiting for the window's audit event.
 */
export async function tallyThrottledSignIn(email: string, ip: string | null, now = new Date()): Promise<void> {
  const address = ip ?? "unknown";
  // Times as UTC text: the columns have no time zone (as in lib/audit/record-audit-event.ts).
  const windowStart = throttleWindowStart(now).toISOString();
  const at = now.toISOString();
  const rows = await db.$queryRaw<{ attempts: number }[]>`
    INSERT INTO "SignInThrottleTally" ("ip", "windowStart", "attempts", "emails", "firstAt", "lastAt")
    VALUES (${address}, ${windowStart}::timestamp(3), 1, ARRAY[${email}]::text[], ${at}::timestamp(3), ${at}::timestamp(3))
    ON CONFLICT ("ip", "windowStart") DO UPDATE SET
      "attempts" = "SignInThrottleTally"."attempts" + 1,
      "lastAt" = GREATEST("SignInThrottleTally"."lastAt", EXCLUDED."lastAt"),
      "emails" = CASE
        WHEN ${email} = ANY("SignInThrottleTally"."emails") OR cardinality("SignInThrottleTally"."emails") >= ${MAX_ACCOUNTS}
        THEN "SignInThrottleTally"."emails"
        ELSE array_append("SignInThrottleTally"."emails", ${email}) END
    RETURNING "attempts"`;
  if (rows[0]?.attempts === 1) log.warn({ ip: address, windowStart }, "sign-in attempts from this address are being refused (too many failures)");
}

interface TallyRow {
  ip: string;
  windowStart: Date;
  attempts: number;
  emails: string[];
  firstAt: Date;
  lastAt: Date;
}

const hhmm = (d: Date) => d.toISOString().slice(11, 16);

/**
 * Turns every window that is over (by `now`) into one USER_SIGN_IN_THROTTLED audit event and deletes its row in the
 * same transaction, so each window is reported exactly once, whichever instance gets to it. Returns how many.
 */
export async function reportThrottledSignIns(options: { now?: Date } = {}): Promise<number> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - windowMs());
  let reported = 0;
  for (;;) {
    const n = await db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<TallyRow[]>`
        DELETE FROM "SignInThrottleTally" WHERE ("ip", "windowStart") IN (
          SELECT "ip", "windowStart" FROM "SignInThrottleTally" WHERE "windowStart" <= ${cutoff.toISOString()}::timestamp(3)
          ORDER BY "windowStart", "ip" LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
        RETURNING "ip", "windowStart", "attempts", "emails", "firstAt", "lastAt"`;
      rows.sort((a, b) => a.windowStart.getTime() - b.windowStart.getTime() || a.ip.localeCompare(b.ip));
      for (const r of rows) {
        const windowEnd = new Date(r.windowStart.getTime() + windowMs());
        const accounts = r.emails.length >= MAX_ACCOUNTS ? `${r.emails.slice(0, 3).join(", ")} and at least ${MAX_ACCOUNTS - 3} more accounts` : r.emails.join(", ");
        await recordAuditEvent(tx, systemActor("sign-in throttling", { ip: r.ip === "unknown" ? null : r.ip }), {
          type: "USER_SIGN_IN_THROTTLED",
          object: { type: "Address", id: r.ip },
          summary: `refused ${r.attempts} sign-in attempt${r.attempts === 1 ? "" : "s"} from ${r.ip} between ${hhmm(r.windowStart)} and ${hhmm(windowEnd)} UTC (too many failures): ${accounts}`,
          data: {
            ip: r.ip,
            attempts: r.attempts,
            accounts: r.emails,
            accountsComplete: r.emails.length < MAX_ACCOUNTS,
            windowStart: r.windowStart.toISOString(),
            windowEnd: windowEnd.toISOString(),
            firstAt: r.firstAt.toISOString(),
            lastAt: r.lastAt.toISOString(),
          },
        });
      }
      return rows.length;
    });
    reported += n;
    if (n < BATCH) return reported;
  }
}

/** Starts, once per process (server/lifecycle.ts), the minutely report of refused sign-ins whose window is over. */
export function startThrottleReportTimer(): void {
  runPeriodically("refused sign-in report", TIMER_MS, reportThrottledSignIns, (err) => log.error({ err }, "reporting refused sign-ins failed; retrying on the next tick"));
}
