import "server-only";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { auditWhereSql, type TAuditFilter } from "./audit-filter";
import { resolveAuditScope } from "./audit-scope";
import { EVENT_COLUMNS, toStoredEvent } from "./event-rows";

export const AUDIT_PAGE_SIZE = 50;

/** One page of audit events, newest first, within the actor's scope; `nextBefore` continues to older events. */
export async function searchAuditEvents(actor: UserActor, filter: TAuditFilter) {
  const scope = await resolveAuditScope(actor, filter);
  if (scope.releaseIds && scope.releaseIds.length === 0) return { events: [], nextBefore: null };
  const where = auditWhereSql(filter, scope);
  const rows = await db.$queryRawUnsafe<Record<string, unknown>[]>(
    `SELECT ${EVENT_COLUMNS} FROM "AuditEvent" ${where.sql} ORDER BY "seq" DESC LIMIT ${AUDIT_PAGE_SIZE + 1}`,
    ...where.params,
  );
  const events = rows.slice(0, AUDIT_PAGE_SIZE).map(toStoredEvent);
  return { events, nextBefore: rows.length > AUDIT_PAGE_SIZE ? events[events.length - 1]!.seq : null };
}
