import "server-only";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { auditWhereSql, isUnfiltered, type TAuditFilter } from "./audit-filter";
import { resolveAuditScope } from "./audit-scope";
import { CHECKPOINT_COLUMNS, EVENT_COLUMNS, toStoredCheckpoint, toStoredEvent } from "./event-rows";
import { checkpointLine, csvHeader, csvLine, EXPORT_FORMAT, type ExportHeader, eventLine } from "./export-format";

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
    let after = 0n;
    const n = where.params.length;
    const and = where.sql ? `${where.sql} AND` : "WHERE";
    for (;;) {
      const rows = await db.$queryRawUnsafe<Record<string, unknown>[]>(
        `SELECT ${EVENT_COLUMNS} FROM "AuditEvent" ${and} "seq" > $${n + 1}::bigint AND "seq" <= $${n + 2}::bigint ORDER BY "seq" LIMIT ${PAGE}`,
        ...where.params,
        after.toString(),
        headSeq.toString(),
      );
      for (const r of rows) {
        const e = toStoredEvent(r);
        yield format === "csv" ? csvLine(e) : eventLine(e);
      }
      if (rows.length < PAGE) return;
      after = BigInt(String(rows[rows.length - 1]!.seq));
    }
  }
  return lines();
}
