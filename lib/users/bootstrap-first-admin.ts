import "server-only";
import { recordAuditEvent } from "../audit/record-audit-event";
import { systemActor } from "../auth/actor";
import { generatePassword, hashPassword } from "../auth/password";
import { db } from "../db/client";

export const FIRST_ADMIN_EMAIL = "admin@releasegate.local";

/**
 * On a database with no users, creates the first platform administrator with a one-time password and returns
 * the credentials (the caller prints them once). Returns null when users exist. Safe to run from several
 * instances at once: a transaction-scoped advisory lock lets exactly one of them create the account.
 */
export async function bootstrapFirstAdmin(): Promise<{ email: string; password: string } | null> {
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(72707370)`;
    if ((await tx.user.count()) > 0) return null;
    const user = await tx.user.create({
      data: { email: FIRST_ADMIN_EMAIL, name: "Administrator", passwordHash, isPlatformAdmin: true, mustChangePassword: true },
    });
    await recordAuditEvent(tx, systemActor("first-run setup"), {
      type: "PLATFORM_ADMIN_BOOTSTRAPPED",
      object: { type: "User", id: user.id },
      summary: `created the first administrator ${user.email}`,
      after: { email: user.email, isPlatformAdmin: true },
    });
    return { email: user.email, password };
  });
}
