import "server-only";
import type { UserActor } from "../auth/actor";
import { auditableApplicationIds } from "../auth/permissions";
import { db } from "../db/client";
import { forbidden } from "../errors";
import type { TAuditFilter } from "./audit-filter";

export interface AuditScope {
  /** null = all applications and platform-wide events (platform admins only). */
  applicationIds: string[] | null;
  /** Release ids matching the filter's version search, or null when the filter has none. */
  releaseIds: string[] | null;
  /** The seq range holding the filter's from/to time range (inclusive), or null when the filter has neither. */
  seqRange: { first: bigint; last: bigint } | null;
}

/**
 * What part of the audit record the actor may read: everything for platform admins, otherwise the events of the
 * applications where they are an auditor. Anyone else is refused.
 */
export async function resolveAuditScope(actor: UserActor, filter: TAuditFilter): Promise<AuditScope> {
  const applicationIds = auditableApplicationIds(actor);
  if (applicationIds?.length === 0) throw forbidden("Only auditors can read the audit record.");
  let releaseIds: string[] | null = null;
  if (filter.release) {
    const v = filter.release;
    const releases = await db.release.findMany({
      where: {
        ...(applicationIds ? { applicationId: { in: applicationIds } } : {}),
        version: v.endsWith("*") ? { startsWith: v.slice(0, -1) } : v,
      },
      select: { id: true },
      take: 1000,
    });
    releaseIds = releases.map((r) => r.id);
  }
  return { applicationIds, releaseIds, seqRange: await seqRangeOf(filter) };
}

/**
 * Translates a time range into the seq range that holds it, with two lookups on the occurredAt index. Exact because
 * occurredAt never decreases along seq (record-audit-event.ts). The SQL keeps the occurredAt predicates as well, but
 * the seq bounds are what let PostgreSQL page newest-first through a narrow slice of the seq index instead of
 * walking back from the head until it reaches the range (300 ms for one week at 1M events).
 */
async function seqRangeOf(filter: TAuditFilter): Promise<AuditScope["seqRange"]> {
  if (!filter.from && !filter.to) return null;
  const [first, last] = await Promise.all([
    filter.from
      ? db.auditEvent.findFirst({ where: { occurredAt: { gte: filter.from } }, orderBy: [{ occurredAt: "asc" }, { seq: "asc" }], select: { seq: true } })
      : { seq: 1n },
    filter.to
      ? db.auditEvent.findFirst({ where: { occurredAt: { lt: filter.to } }, orderBy: [{ occurredAt: "desc" }, { seq: "desc" }], select: { seq: true } })
      : { seq: 9223372036854775807n },
  ]);
  // Nothing in range: an empty seq range, so the query finds nothing without a special case.
  return first && last ? { first: first.seq, last: last.seq } : { first: 1n, last: 0n };
}
