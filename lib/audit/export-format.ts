// The audit export formats. NDJSON is the evidence format: a header line, every checkpoint, then every event, so a
// complete export verifies offline (scripts/audit-verify.ts --export). In an auditor's export, the events of other
// applications (and platform-wide ones) are "redacted" lines: seq, chain version, content hash, prevHash and hash,
// which is all a version-2 hash needs to recompute (chain.ts), and nothing of the event itself. CSV is for
// spreadsheets.
import { ascii } from "./json-bytes";
import type { RedactedEvent, StoredCheckpoint, StoredEvent } from "./verify-chain";

export const EXPORT_FORMAT = "releasegate-audit-export";

export interface ExportHeader {
  kind: typeof EXPORT_FORMAT;
  /**
   * 1: event lines without chainVersion (every event version 1), no redacted lines. 2: the format described here.
   * 3: as 2, and a complete export signs the head of the chain before it is made, so its `headSeq` is the `lastSeq`
   * of its newest checkpoint: a file whose last events were cut no longer verifies, whatever its header says.
   */
  version: 1 | 2 | 3;
  exportedAt: string;
  /**
   * True when the export holds the whole chain (from event 1, or from `startsAfter`), each event in full or as its
   * hashes: only then does it verify end to end. False when filters left events out.
   */
  complete: boolean;
  filters: Record<string, string>;
  /** The last event the export runs to (the file must end there: a file cut short is told by it). */
  headSeq: string;
  /** Present in an auditor's export: only these applications' events are in full, every other one redacted. */
  applications?: string[];
  /**
   * Present when the export begins after this signed checkpoint instead of at event 1: in an auditor's export of a
   * record begun before chain version 2, other tenants' version-1 events cannot be shown as hashes alone.
   */
  startsAfter?: { checkpoint: string; seq: string };
}

/** The keys of an event line after `"kind":"event"`, in the order eventLine writes them (StoredEvent's order). */
export const EVENT_LINE_KEYS = [
  "seq", "id", "occurredAt", "type", "actorType", "actorId", "actorLabel", "customerId", "applicationId", "environmentId", "releaseId",
  "objectType", "objectId", "summary", "before", "after", "data", "ip", "userAgent", "requestId", "prevHash", "hash", "chainVersion",
] as const;
/** What precedes each value on an event line, as bytes: `{"kind":"event","seq":`, then `,"id":`, and so on. */
export const EVENT_LINE_PREFIXES = EVENT_LINE_KEYS.map((k, i) => ascii(`${i === 0 ? '{"kind":"event",' : ","}"${k}":`));

/** An event line: the reference format (export-row-writer.ts writes the same lines from database rows). */
export const eventLine = (e: StoredEvent): string =>
  JSON.stringify({
    kind: "event",
    ...Object.fromEntries(EVENT_LINE_KEYS.map((k) => [k, e[k]])),
    seq: e.seq.toString(),
    occurredAt: e.occurredAt.toISOString(),
  });

/** The keys of a redacted line after `"kind":"redacted"`, in the order redactedLine writes them. */
export const REDACTED_LINE_KEYS = ["seq", "chainVersion", "contentHash", "prevHash", "hash"] as const;

/** Another application's (or a platform-wide) event in an auditor's export: its hashes, nothing of its content. */
export const redactedLine = (r: RedactedEvent): string =>
  JSON.stringify({ kind: "redacted", seq: r.seq.toString(), chainVersion: r.chainVersion, contentHash: r.contentHash, prevHash: r.prevHash, hash: r.hash });

export const checkpointLine = (c: StoredCheckpoint): string =>
  JSON.stringify({ kind: "checkpoint", ...c, number: c.number.toString(), lastSeq: c.lastSeq.toString(), createdAt: c.createdAt.toISOString() });

export type ExportLine =
  | { kind: "header"; header: ExportHeader }
  | { kind: "event"; event: StoredEvent }
  | { kind: "redacted"; event: RedactedEvent }
  | { kind: "checkpoint"; checkpoint: StoredCheckpoint };

/** Parses one NDJSON line of an export; throws with the reason on anything malformed. */
export function parseExportLine(line: string): ExportLine {
  const o = JSON.parse(line) as Record<string, unknown>;
  if (o.kind === EXPORT_FORMAT) return { kind: "header", header: o as unknown as ExportHeader };
  const s = (k: string) => (o[k] === null || o[k] === undefined ? null : String(o[k]));
  if (o.kind === "event") {
    return {
      kind: "event",
      event: {
        seq: BigInt(String(o.seq)),
        id: String(o.id),
        occurredAt: new Date(String(o.occurredAt)),
        type: String(o.type),
        actorType: String(o.actorType),
        actorId: s("actorId"),
        actorLabel: String(o.actorLabel),
        customerId: s("customerId"),
        applicationId: s("applicationId"),
        environmentId: s("environmentId"),
        releaseId: s("releaseId"),
        objectType: String(o.objectType),
        objectId: s("objectId"),
        summary: String(o.summary),
        before: o.before ?? null,
        after: o.after ?? null,
        data: o.data ?? null,
        ip: s("ip"),
        userAgent: s("userAgent"),
        requestId: s("requestId"),
        prevHash: String(o.prevHash),
        hash: String(o.hash),
        // Lines of a version-1 export have no chainVersion: all their events are version 1.
        chainVersion: o.chainVersion === undefined ? 1 : Number(o.chainVersion),
      },
    };
  }
  if (o.kind === "redacted") {
    return {
      kind: "redacted",
      event: { seq: BigInt(String(o.seq)), chainVersion: Number(o.chainVersion), contentHash: String(o.contentHash), prevHash: String(o.prevHash), hash: String(o.hash) },
    };
  }
  if (o.kind === "checkpoint") {
    return {
      kind: "checkpoint",
      checkpoint: {
        number: BigInt(String(o.number)),
        createdAt: new Date(String(o.createdAt)),
        lastSeq: BigInt(String(o.lastSeq)),
        lastHash: String(o.lastHash),
        prevCheckpointHash: String(o.prevCheckpointHash),
        keyId: String(o.keyId),
        signature: String(o.signature),
        hash: String(o.hash),
      },
    };
  }
  throw new Error(`unknown line kind ${String(o.kind)}`);
}

export const CSV_COLUMNS = [
  "seq", "occurredAt", "type", "actorType", "actorLabel", "actorId", "objectType", "objectId", "summary",
  "customerId", "applicationId", "environmentId", "releaseId", "ip", "userAgent", "requestId",
  "before", "after", "data", "prevHash", "hash",
] as const;

/** One CSV field: quoted when needed; a leading = + - @ is neutralised so spreadsheets do not run it as a formula. */
export function csvField(value: unknown): string {
  let s = value === null || value === undefined ? "" : typeof value === "object" && !(value instanceof Date) ? JSON.stringify(value) : value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvHeader = (): string => CSV_COLUMNS.join(",");
export const csvLine = (e: StoredEvent): string => CSV_COLUMNS.map((c) => csvField(c === "seq" ? e.seq.toString() : e[c])).join(",");
