import "server-only";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import type { UserActor } from "../auth/actor";
import { pgPool } from "../db/client";
import { auditWhereSql, isUnfiltered, type TAuditFilter } from "./audit-filter";
import { resolveAuditScope } from "./audit-scope";
import { EVENT_COPY_COLUMNS, EVENT_COPY_FIELDS } from "./binary-event-row";
import { CopyBinaryReader } from "./copy-binary-reader";
import { CHECKPOINT_COLUMNS, RAW_TEXT, toStoredCheckpoint } from "./event-rows";
import { checkpointLine, csvHeader, EXPORT_FORMAT, type ExportHeader } from "./export-format";
import { writeCsvLine, writeEventLine } from "./export-row-writer";
import { JsonBytes } from "./json-bytes";

export type ExportFormat = "ndjson" | "csv";

// Bytes handed on at a time: big enough that per-chunk costs vanish, small enough to stream.
const CHUNK = 64 * 1024;

/**
 * Streams the events the actor may read, oldest first, as NDJSON (header, checkpoints, events) or CSV lines, in
 * chunks of UTF-8. One binary COPY in one REPEATABLE READ snapshot up to the head at the start: memory stays flat at
 * any size (the COPY waits while the consumer does not read), and rows written during the export do not make it
 * inconsistent. Rows become lines without objects or strings per row (export-row-writer.ts). Only an unfiltered
 * export by a platform admin is `complete` and verifies end to end; others still carry each event's hash.
 */
export async function exportAuditEvents(actor: UserActor, filter: TAuditFilter, format: ExportFormat): Promise<AsyncGenerator<Uint8Array>> {
  const scope = await resolveAuditScope(actor, filter);
  const complete = isUnfiltered(filter, scope.applicationIds);
  const { before: _ignored, ...rest } = filter;
  const where = auditWhereSql(rest, scope);
  const nothing = scope.releaseIds !== null && scope.releaseIds.length === 0;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const client = await pgPool().connect();
    // A connection left mid-COPY (the consumer stopped reading) cannot go back to the pool: it is destroyed.
    let clean = false;
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      // Checkpoint times are read as text in this format (event-rows.ts), whatever the server's default.
      await client.query("SET LOCAL DateStyle = 'ISO, YMD'");
      const [top] = (await client.query<{ head: string }>(`SELECT coalesce(max("seq"), 0)::text AS "head" FROM "AuditEvent"`)).rows;
      const headSeq = BigInt(top!.head);
      let out = new JsonBytes();
      if (format === "csv") out.raw(`${csvHeader()}\n`);
      else {
        const header: ExportHeader = {
          kind: EXPORT_FORMAT,
          version: 1,
          exportedAt: new Date().toISOString(),
          complete,
          filters: Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : String(v)])),
          headSeq: headSeq.toString(),
        };
        out.raw(`${JSON.stringify(header)}\n`);
        // Every checkpoint, also one that signed past the head: in this snapshot that can only mean the events it
        // signed were deleted, and the verifier must see that checkpoint to say so (as it does from the database).
        const cps = await client.query({ text: `SELECT ${CHECKPOINT_COLUMNS} FROM "AuditCheckpoint" ORDER BY "number"`, types: RAW_TEXT });
        for (const c of cps.rows as Record<string, unknown>[]) out.raw(`${checkpointLine(toStoredCheckpoint(c))}\n`);
      }
      if (!nothing) {
        const write = format === "csv" ? writeCsvLine : writeEventLine;
        const reader = new CopyBinaryReader(EVENT_COPY_FIELDS, (buf, start, end) => write(out, buf, start, end));
        const and = where.sql ? `${where.sql} AND` : "WHERE";
        const sql = `COPY (SELECT ${EVENT_COPY_COLUMNS} FROM "AuditEvent" ${and} "seq" <= ${headSeq.toString()} ORDER BY "seq") TO STDOUT (FORMAT binary)`;
        for await (const chunk of client.query(copyTo(inlineParams(sql, where.params)))) {
          reader.push(chunk as Buffer);
          if (out.length >= CHUNK) {
            // Hand the filled buffer on and write into a new one: no copy, and the consumer may keep it.
            yield out.buf.subarray(0, out.length);
            out = new JsonBytes();
          }
        }
        reader.finish();
      }
      if (out.length) yield out.buf.subarray(0, out.length);
      await client.query("COMMIT");
      clean = true;
    } finally {
      client.release(!clean);
    }
  }
  return chunks();
}

/**
 * COPY takes no bind parameters, so the filter's values go into the SQL as literals: strings (and UUIDs, dates)
 * quoted by pg's escapeLiteral, integers checked, arrays as ARRAY[...]. The placeholders are the filter's own
 * ($1..$n from auditWhereSql), never text a user typed.
 */
function inlineParams(sql: string, params: unknown[]): string {
  const literal = (v: unknown): string => {
    if (typeof v === "string") return pg.escapeLiteral(v);
    if (v instanceof Date) return pg.escapeLiteral(v.toISOString());
    if (typeof v === "bigint" || (typeof v === "number" && Number.isSafeInteger(v))) return v.toString();
    if (Array.isArray(v)) return `ARRAY[${v.map(literal).join(", ")}]`;
    throw new Error(`cannot inline a ${typeof v} into COPY`);
  };
  return sql.replace(/\$(\d+)/g, (_m, n: string) => {
    const i = Number(n) - 1;
    if (!(i in params)) throw new Error(`no parameter $${n}`);
    return literal(params[i]);
  });
}
