import "server-only";
import { randomUUID } from "node:crypto";
import type { Actor } from "../auth/actor";
import { actorLabel } from "../auth/actor";
import type { Tx } from "../db/client";
import type { Prisma } from "../db/generated/client";
import { CHAIN_VERSION, type ChainedEvent, GENESIS_HASH, hashEvent, normalizeJson, wellFormed } from "./chain";
import { type AuditEventType, isAuditEventType } from "./event-types";

export interface AuditEventInput {
  type: AuditEventType;
  /** What the event is about, e.g. { type: "User", id }. */
  object: { type: string; id?: string | null };
  /** Tenant scope, so auditors of an application find its events. */
  scope?: { customerId?: string | null; applicationId?: string | null; environmentId?: string | null; releaseId?: string | null };
  /** One human-readable line, e.g. "granted OPS on shop-frontend to ana@example.com". */
  summary: string;
  before?: Prisma.InputJsonValue;
  after?: Prisma.InputJsonValue;
  data?: Prisma.InputJsonValue;
}

// Serialises audit writers so `seq` is gap-free and each event links to the one before it. Held until the
// surrounding transaction commits or rolls back (a rolled-back change leaves no number behind).
const AUDIT_CHAIN_LOCK = 72707371;

/**
 * The only writer of audit events. It takes the transaction client of the change it records, so the event and the
 * change commit or roll back together (INVARIANT: never call it with the global client for a state change).
 * Call it last in the transaction: from here to commit, other audited writes wait for the chain lock.
 */
export async function recordAuditEvent(tx: Tx, actor: Actor, event: AuditEventInput): Promise<void> {
  if (!isAuditEventType(event.type)) throw new Error(`Unknown audit event type: ${String(event.type)}`);
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`;
  const head = await tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true, occurredAt: true } });
  // INVARIANT: occurredAt never decreases along seq, even if this clock is behind the writer's before (another
  // instance, a clock step). Time-range searches rely on it to turn from/to into seq bounds (audit-scope.ts).
  const now = new Date();
  // Strings exactly as PostgreSQL will store them, so the hash covers the stored bytes (chain.ts wellFormed).
  const text = (v: string | null): string | null => (v === null ? null : wellFormed(v));
  const row: ChainedEvent = {
    seq: (head?.seq ?? 0n) + 1n,
    id: randomUUID(),
    occurredAt: head && head.occurredAt > now ? head.occurredAt : now,
    type: event.type,
    actorType: actor.type,
    actorId: text(actorId(actor)),
    actorLabel: wellFormed(actorLabel(actor)),
    customerId: event.scope?.customerId ?? null,
    applicationId: event.scope?.applicationId ?? null,
    environmentId: event.scope?.environmentId ?? null,
    releaseId: event.scope?.releaseId ?? null,
    objectType: wellFormed(event.object.type),
    objectId: text(event.object.id ?? null),
    summary: wellFormed(event.summary),
    before: normalizeJson(event.before),
    after: normalizeJson(event.after),
    data: normalizeJson(event.data),
    ip: text(actor.ctx.ip),
    userAgent: text(actor.ctx.userAgent),
    requestId: text(actor.ctx.requestId),
    prevHash: head?.hash ?? GENESIS_HASH,
    chainVersion: CHAIN_VERSION,
  };
  // Written with plain SQL, the JSON columns as JSON text cast to jsonb: Prisma sends a JSON value that is a bare
  // number as a float, which PostgreSQL keeps to 15 digits (0.30000000000000004 became 0.3), so the stored event
  // no longer matched its hash. JSON text keeps every value exactly. SQL NULL for "nothing recorded" (a JSON null
  // would read back the same but index differently). The time goes as UTC text: the column has no time zone.
  const json = (v: unknown): string | null => (v === null ? null : JSON.stringify(v));
  const at = row.occurredAt.toISOString().replace("T", " ").replace("Z", "");
  await tx.$executeRaw`
    INSERT INTO "AuditEvent" ("seq", "id", "occurredAt", "type", "actorType", "actorId", "actorLabel", "customerId", "applicationId",
      "environmentId", "releaseId", "objectType", "objectId", "summary", "before", "after", "data", "ip", "userAgent", "requestId", "prevHash", "hash", "chainVersion")
    VALUES (${row.seq}, ${row.id}::uuid, ${at}::timestamp(3), ${row.type}, ${row.actorType}::"ActorType", ${row.actorId}, ${row.actorLabel},
      ${row.customerId}::uuid, ${row.applicationId}::uuid, ${row.environmentId}::uuid, ${row.releaseId}::uuid, ${row.objectType}, ${row.objectId},
      ${row.summary}, ${json(row.before)}::jsonb, ${json(row.after)}::jsonb, ${json(row.data)}::jsonb, ${row.ip}, ${row.userAgent}, ${row.requestId},
      ${row.prevHash}, ${hashEvent(row)}, ${row.chainVersion}::smallint)`;
}

/** The id of the acting person, server (agent) or API token; none for the system. */
function actorId(actor: Actor): string | null {
  switch (actor.type) {
    case "USER":
      return actor.id;
    case "AGENT":
      return actor.targetId;
    case "API_TOKEN":
      return actor.tokenId;
    case "SYSTEM":
      return null;
  }
}
