import "server-only";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { auditWhereSql, isUnfiltered, type TAuditFilter } from "./audit-filter";
import { resolveAuditScope } from "./audit-scope";
import { CHECKPOINT_COLUMNS, EVENT_COLUMNS, toStoredCheckpoint, toStoredEvent } from "./event-rows";
import { checkpointLine, csvHeader, csvLine, EVENT_LINE_COLUMNS, eventLineFromRow, EXPORT_FORMAT, type ExportHeader } from "./export-format";

export type ExportFormat = "ndjson" | "csv";
const PAGE = 5000;

/**
 * Streams the events the actor may read, oldest first, as NDJSON (header, checkpoints, events) or CSV lines.
 * Pages by seq up to the head at the start, so memory stays flat at any size and rows written during the export do
 * not make it inconsistent. Only an unfiltered export by a platform admin is `complete` and verifies end to end;
 * others still carry each event's hash.
 */
export async function exportAuditEvents(actor: UserActor, filter: TAuditFilter, format: ExportFormat): Promise<AsyncGenerator<string>> {
  const scope = await resolveAuditScope(actor, filter);
  const complete = isUnfiltered(filter, scope.applicationIds);
  const head = await db.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true } });
  const headSeq = head?.seq ?? 0n;
  const { before: _ignored, ...rest } = filter;
  const where = auditWhereSql(rest, scope);

  async function* lines(): AsyncGenerator<string> {
    if (format === "csv") yield csvHeader();
    else {
      const header: ExportHeader = {
        kind: EXPORT_FORMAT,
        version: 1,
        exportedAt: new Date().toISOString(),
        complete,
        filters: Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : String(v)])),
        headSeq: headSeq.toString(),
      };
      yield JSON.stringify(header);
      const cps = await db.$queryRawUnsafe<Record<string, unknown>[]>(
        `SELECT ${CHECKPOINT_COLUMNS} FROM "AuditCheckpoint" WHERE "lastSeq" <= $1::bigint ORDER BY "number"`,
        headSeq.toString(),
      );
      for (const c of cps) yield checkpointLine(toStoredCheckpoint(c));
    }
    if (scope.releaseIds && scope.releaseIds.length === 0) return;
    const n = where.params.length;
    const and = where.sql ? `${where.sql} AND` : "WHERE";
    const csv = format === "csv";
    // Order by the table's seq: the NDJSON columns carry seq as text, and text order would break the paging.
    const page = (after: string) =>
      db.$queryRawUnsafe<Record<string, unknown>[]>(
        `SELECT ${csv ? EVENT_COLUMNS : EVENT_LINE_COLUMNS} FROM "AuditEvent" ${and} "seq" > $${n + 1}::bigint AND "seq" <= $${n + 2}::bigint
         ORDER BY "AuditEvent"."seq" LIMIT ${PAGE}`,
        ...where.params,
        after,
        headSeq.toString(),
      );
    let rows = await page("0");
    for (;;) {
      // Ask for the next page before formatting this one, so PostgreSQL reads it while this thread writes lines.
      const last = rows.length === PAGE ? rows[PAGE - 1]! : null;
      // Promise.resolve starts Prisma's lazy query now. A page abandoned by a consumer that stops reading must not
      // surface as an unhandled rejection, hence the catch (the await below still sees any error).
      const next = last ? Promise.resolve(page(String(csv ? last.seq : last.seqText))) : null;
      next?.catch(() => undefined);
      for (const r of rows) yield csv ? csvLine(toStoredEvent(r)) : eventLineFromRow(r);
      if (!next) return;
      rows = await next;
    }
  }
  return lines();
}
