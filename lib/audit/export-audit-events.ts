import "server-only";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import type { UserActor } from "../auth/actor";
import { pgPool } from "../db/client";
import { auditWhereSql, hasFilters, type TAuditFilter } from "./audit-filter";
import { resolveAuditScope } from "./audit-scope";
import { EVENT_COPY_COLUMNS, EVENT_COPY_FIELDS } from "./binary-event-row";
import { CanonicalWriter } from "./canonical-writer";
import { CopyBinaryReader } from "./copy-binary-reader";
import { createCheckpoint } from "./create-checkpoint";
import { CHECKPOINT_COLUMNS, RAW_TEXT, toStoredCheckpoint } from "./event-rows";
import { checkpointLine, csvHeader, EXPORT_FORMAT, type ExportHeader } from "./export-format";
import { writeCsvLine, writeEventLine, writeRedactedLine } from "./export-row-writer";
import { JsonBytes } from "./json-bytes";

export type ExportFormat = "ndjson" | "csv";

// Bytes handed on at a time: big enough that per-chunk costs vanish, small enough to stream.
const CHUNK = 64 * 1024;

/**
 * Streams the events the actor may read, oldest first, as NDJSON (header, checkpoints, events) or CSV lines, in
 * chunks of UTF-8. One binary COPY in one REPEATABLE READ snapshot up to the head at the start: memory stays flat at
 * any size (the COPY waits while the consumer does not read), and rows written during the export do not make it
 * inconsistent. Rows become lines without objects or strings per row (export-row-writer.ts).
 *
 * An NDJSON export without filters is complete and verifies on its own (`npm run audit:verify -- --export`). An
 * administrator's holds every event. An auditor's holds every event of the applications they audit in full and
 * every other event (other tenants', platform-wide ones) as a redacted line: its seq and hashes, from which its
 * version-2 hash recomputes, and nothing of its content (chain.ts). A complete export first signs the head of the
 * chain and runs to the newest checkpoint, so its last event is signed (see signHead). A filtered export still
 * carries each event's hash but does not verify end to end.
 */
export async function exportAuditEvents(actor: UserActor, filter: TAuditFilter, format: ExportFormat): Promise<AsyncGenerator<Uint8Array>> {
  const scope = await resolveAuditScope(actor, filter);
  const filtered = hasFilters(filter);
  const { before: _ignored, ...rest } = filter;
  const auditedApps = scope.applicationIds;
  const complete = format === "ndjson" && !filtered;
  // An auditor's complete export reads the whole chain; which events they see in full is decided per row.
  const redact = complete && auditedApps !== null;
  const where = redact ? { sql: "", params: [] } : auditWhereSql(rest, scope);
  const nothing = scope.releaseIds !== null && scope.releaseIds.length === 0;
  if (complete) await signHead();

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const client = await pgPool().connect();
    // A connection left mid-COPY (the consumer stopped reading) cannot go back to the pool: it is destroyed.
    let clean = false;
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      // Checkpoint times are read as text in this format (event-rows.ts), whatever the server's default.
      await client.query("SET LOCAL DateStyle = 'ISO, YMD'");
      const [top] = (
        await client.query<{ head: string; signed: string | null }>(
          `SELECT coalesce(max("seq"), 0)::text AS "head", (SELECT max("lastSeq") FROM "AuditCheckpoint")::text AS "signed" FROM "AuditEvent"`,
        )
      ).rows;
      const newest = BigInt(top!.head);
      const signed = top!.signed === null ? null : BigInt(top!.signed);
      // A complete export ends at the newest checkpoint (signHead's, or a newer one another instance signed since):
      // events written after it are the next export's. A checkpoint past the newest event can only mean the events
      // it signed were deleted; the export then ends at the newest event and the verifier says what is missing.
      const headSeq = complete && signed !== null && signed < newest ? signed : newest;
      const start = redact ? await startOfRedactedExport(client, auditedApps, headSeq) : null;
      let out = new JsonBytes();
      if (format === "csv") out.raw(`${csvHeader()}\n`);
      else {
        const header: ExportHeader = {
          kind: EXPORT_FORMAT,
          version: 3,
          exportedAt: new Date().toISOString(),
          complete: !filtered,
          filters: Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : String(v)])),
          headSeq: headSeq.toString(),
          ...(redact ? { applications: auditedApps } : {}),
          ...(start ? { startsAfter: { checkpoint: start.checkpoint, seq: start.seq } } : {}),
        };
        out.raw(`${JSON.stringify(header)}\n`);
        // Every checkpoint, also one that signed past the head: in this snapshot that can only mean the events it
        // signed were deleted, and the verifier must see that checkpoint to say so (as it does from the database).
        const cps = await client.query({ text: `SELECT ${CHECKPOINT_COLUMNS} FROM "AuditCheckpoint" ORDER BY "number"`, types: RAW_TEXT });
        for (const c of cps.rows as Record<string, unknown>[]) out.raw(`${checkpointLine(toStoredCheckpoint(c))}\n`);
      }
      if (!nothing) {
        let reader: CopyBinaryReader;
        let sql: string;
        if (redact) {
          // One more field after the event's: whether it is of an audited application (bool: one byte, 0 or 1).
          const visible = EVENT_COPY_FIELDS;
          const writer = new CanonicalWriter();
          reader = new CopyBinaryReader(EVENT_COPY_FIELDS + 1, (buf, s, e) => {
            if (buf[s[visible]!] === 1) writeEventLine(out, buf, s, e);
            else writeRedactedLine(out, writer, buf, s, e);
          });
          sql = inlineParams(
            `COPY (SELECT ${EVENT_COPY_COLUMNS}, coalesce("applicationId" = ANY($1::uuid[]), false) FROM "AuditEvent"
              WHERE "seq" > ${start?.seq ?? "0"} AND "seq" <= ${headSeq.toString()} ORDER BY "seq") TO STDOUT (FORMAT binary)`,
            [auditedApps],
          );
        } else {
          const write = format === "csv" ? writeCsvLine : writeEventLine;
          reader = new CopyBinaryReader(EVENT_COPY_FIELDS, (buf, s, e) => write(out, buf, s, e));
          const and = where.sql ? `${where.sql} AND` : "WHERE";
          sql = inlineParams(`COPY (SELECT ${EVENT_COPY_COLUMNS} FROM "AuditEvent" ${and} "seq" <= ${headSeq.toString()} ORDER BY "seq") TO STDOUT (FORMAT binary)`, where.params);
        }
        for await (const chunk of client.query(copyTo(sql))) {
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

/** SQL: the event is not of the audited applications ($1), so an auditor's export shows it as its hashes only. */
const FOREIGN = `NOT coalesce("applicationId" = ANY($1::uuid[]), false)`;
/** The chain version whose hash recomputes from the hashes alone (chain.ts); earlier events need their content. */
const BY_HASHES = 2;

/**
 * Signs a checkpoint of the current head when events were written since the newest one, as the checkpoint timer
 * would within AUDIT_CHECKPOINT_INTERVAL_SECONDS. The export's header is not signed: without this, whoever holds the
 * file could cut its newest events (not signed yet) and edit the header's head to match, and it would verify. With
 * it, the file's last event is signed, and a cut shows (verify-export.ts). createCheckpoint takes turns with the
 * timer and other instances on its lock and signs nothing when the head is signed already, so exports at the same
 * time sign at most once each and never twice the same head.
 *
 * It also seals an auditor's export: events written before chain version 2 cannot be shown as their hashes alone
 * (their hash covers their whole content), so other tenants' such events are left out, and the export starts after
 * the first checkpoint that signed the last of them (startOfRedactedExport); this makes sure one does.
 */
async function signHead(): Promise<void> {
  await createCheckpoint();
}

/** Where an auditor's export starts (null: at event 1), in its snapshot; see signHead. */
async function startOfRedactedExport(client: pg.PoolClient, auditedApps: string[], headSeq: bigint): Promise<{ checkpoint: string; seq: string } | null> {
  // A scan of the table (an index on the version would serve only this): about 0.1 s a million events.
  const [older] = (
    await client.query<{ seq: string | null }>(`SELECT max("seq")::text AS "seq" FROM "AuditEvent" WHERE "seq" <= $2 AND "chainVersion" <> ${BY_HASHES} AND ${FOREIGN}`, [
      auditedApps,
      headSeq.toString(),
    ])
  ).rows;
  if (!older?.seq) return null;
  const [sealed] = (
    await client.query<{ number: string; lastSeq: string }>(
      `SELECT "number"::text AS "number", "lastSeq"::text AS "lastSeq" FROM "AuditCheckpoint" WHERE "lastSeq" >= $1 AND "lastSeq" <= $2 ORDER BY "number" LIMIT 1`,
      [older.seq, headSeq.toString()],
    )
  ).rows;
  // The checkpoint the export ends at always qualifies (signHead), unless the events it signed were deleted from the
  // database since: the export then starts at event 1, and the verifier says which events it cannot check.
  return sealed ? { checkpoint: sealed.number, seq: sealed.lastSeq } : null;
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
