import "server-only";
import type { Actor } from "../auth/actor";
import { actorLabel } from "../auth/actor";
import type { Tx } from "../db/client";
import type { Prisma } from "../db/generated/client";
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

/**
 * The only writer of audit events. It takes the transaction client of the change it records, so the event and the
 * change commit or roll back together (INVARIANT: never call it with the global client for a state change).
 */
export async function recordAuditEvent(tx: Tx, actor: Actor, event: AuditEventInput): Promise<void> {
  if (!isAuditEventType(event.type)) throw new Error(`Unknown audit event type: ${String(event.type)}`);
  await tx.auditEvent.create({
    data: {
      type: event.type,
      actorType: actor.type,
      actorId: actor.type === "USER" ? actor.id : null,
      actorLabel: actorLabel(actor),
      customerId: event.scope?.customerId ?? null,
      applicationId: event.scope?.applicationId ?? null,
      environmentId: event.scope?.environmentId ?? null,
      releaseId: event.scope?.releaseId ?? null,
      objectType: event.object.type,
      objectId: event.object.id ?? null,
      summary: event.summary,
      ...(event.before === undefined ? {} : { before: event.before }),
      ...(event.after === undefined ? {} : { after: event.after }),
      ...(event.data === undefined ? {} : { data: event.data }),
      ip: actor.ctx.ip,
      userAgent: actor.ctx.userAgent,
      requestId: actor.ctx.requestId,
    },
  });
}
