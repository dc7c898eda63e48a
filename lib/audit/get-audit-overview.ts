import "server-only";
import type { UserActor } from "../auth/actor";
import { auditableApplicationIds } from "../auth/permissions";
import { db } from "../db/client";
import { forbidden } from "../errors";
import { auditSigningKey } from "./create-checkpoint";

/**
 * What the audit page needs besides events: the filter choices within scope, the checkpoint key, and what a complete
 * export of the actor's holds (everything for an administrator; for an auditor their applications in full and every
 * other event as its hashes, see export-audit-events.ts).
 */
export async function getAuditOverview(actor: UserActor) {
  const applicationIds = auditableApplicationIds(actor);
  if (applicationIds?.length === 0) throw forbidden("Only auditors can read the audit record.");
  const [applications, lastCheckpoint, key, first] = await Promise.all([
    db.application.findMany({
      where: applicationIds ? { id: { in: applicationIds } } : {},
      orderBy: { name: "asc" },
      select: { id: true, name: true, customer: { select: { name: true } }, environments: { orderBy: { position: "asc" }, select: { id: true, name: true } } },
    }),
    db.auditCheckpoint.findFirst({ orderBy: { number: "desc" }, select: { number: true, lastSeq: true, createdAt: true } }),
    auditSigningKey(),
    // Events written before chain version 2 come first in the chain: the first event tells whether there are any.
    db.auditEvent.findUnique({ where: { seq: 1n }, select: { chainVersion: true } }),
  ]);
  return {
    applications,
    lastCheckpoint,
    publicKeyPem: key.publicKeyPem,
    keyId: key.keyId,
    /** Whether the complete export holds other applications' events as hashes only (an auditor's). */
    exportIsRedacted: applicationIds !== null,
    /**
     * Whether the record began before other tenants' events could be shown as hashes alone: an auditor's export
     * then starts after the checkpoint that seals those older events.
     */
    beganBeforeHashOnlyEvents: first?.chainVersion === 1,
  };
}
