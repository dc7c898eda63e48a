import "server-only";
import type { UserActor } from "../auth/actor";
import { auditableApplicationIds } from "../auth/permissions";
import { db } from "../db/client";
import { forbidden } from "../errors";
import { auditSigningKey } from "./create-checkpoint";

/** What the audit page needs besides events: the filter choices within scope, and the checkpoint key. */
export async function getAuditOverview(actor: UserActor) {
  const applicationIds = auditableApplicationIds(actor);
  if (applicationIds?.length === 0) throw forbidden("Only auditors can read the audit record.");
  const [applications, lastCheckpoint, key] = await Promise.all([
    db.application.findMany({
      where: applicationIds ? { id: { in: applicationIds } } : {},
      orderBy: { name: "asc" },
      select: { id: true, name: true, customer: { select: { name: true } }, environments: { orderBy: { position: "asc" }, select: { id: true, name: true } } },
    }),
    db.auditCheckpoint.findFirst({ orderBy: { number: "desc" }, select: { number: true, lastSeq: true, createdAt: true } }),
    auditSigningKey(),
  ]);
  return { applications, lastCheckpoint, publicKeyPem: key.publicKeyPem, keyId: key.keyId, canExportComplete: applicationIds === null };
}
