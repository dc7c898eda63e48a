import "server-only";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";
import { loadProductionState } from "../releases/load-production-state";
import { AUDIT_EVENT_TYPES, type AuditEventType, isAuditEventType } from "./event-types";
import { releaseLabel } from "../deployments/release-label";
import { acceptanceEnvironment } from "../approvals/stages";

export interface EvidenceEvent {
  seq: bigint;
  occurredAt: Date;
  type: AuditEventType | string;
  meaning: string;
  actorType: string;
  actorLabel: string;
  ip: string | null;
  environment: string | null;
  summary: string;
  /** The artifact hash the event recorded, if it recorded one. */
  sha256: string | null;
  /** The event recorded another release's bytes on purpose (a rollback to the previous release). */
  otherRelease: string | null;
  hash: string;
}

export interface EvidenceMilestone {
  label: string;
  who: string | null;
  at: Date | null;
  sha256: string | null;
  /** For a step not taken that can no longer happen, why (the rejection); null while it still may. */
  instead: string | null;
}

const shaOf = (v: unknown): string | null => {
  if (v && typeof v === "object" && "artifactSha256" in v) {
    const s = (v as { artifactSha256: unknown }).artifactSha256;
    return typeof s === "string" ? s : null;
  }
  if (v && typeof v === "object" && "sha256" in v) {
    const s = (v as { sha256: unknown }).sha256;
    return typeof s === "string" ? s : null;
  }
  return null;
};

const REFUSALS: string[] = ["PERMISSION_DENIED", "DEPLOYMENT_REFUSED"];

/** The refusal's own words, kept with a PERMISSION_DENIED or DEPLOYMENT_REFUSED (lib/audit/record-denial.ts). */
const reasonOf = (v: unknown): string | null =>
  v && typeof v === "object" && "reason" in v && typeof (v as { reason: unknown }).reason === "string" ? (v as { reason: string }).reason : null;

const versionOf = (v: unknown): string | null =>
  v && typeof v === "object" && "version" in v && typeof (v as { version: unknown }).version === "string" ? (v as { version: string }).version : null;

/**
 * A release's evidence for an auditor: every audit event about it in chain order, the milestones from upload to
 * production (who, when, which bytes), the attempts on it that were refused for lack of permission, whether every
 * hash recorded along the way is the uploaded artifact's, and whether a signed checkpoint already covers the whole
 * story. Auditors of the application and platform admins
 * only; anyone else gets NOT_FOUND, as for a release that does not exist.
 */
export async function getReleaseEvidence(actor: UserActor, releaseId: string) {
  const release = await db.release.findUnique({
    where: { id: releaseId },
    include: { application: { include: { customer: true } }, uploadedBy: { select: { name: true, email: true } } },
  });
  if (!release || !can(actor, "audit.view", release.applicationId)) throw notFound("Release");
  // Reverts that took this release out are part of its story, though their events are about the release they
  // returned to (and carry its hash).
  const reverts = await db.deployment.findMany({ where: { kind: "REVERT", previousReleaseId: releaseId }, select: { id: true, release: { select: { version: true } } } });
  const revertedTo = new Map(reverts.map((d) => [d.id, releaseLabel(d.release)]));
  const [rows, environments, checkpoint] = await Promise.all([
    db.auditEvent.findMany({
      where: { OR: [{ releaseId }, { objectType: "Release", objectId: releaseId }, { objectType: "Deployment", objectId: { in: [...revertedTo.keys()] } }] },
      orderBy: { seq: "asc" },
    }),
    db.environment.findMany({
      where: { applicationId: release.applicationId },
      orderBy: { position: "asc" },
      select: { id: true, name: true, position: true, isProduction: true, requiresAcceptance: true, requiredApprovals: true },
    }),
    db.auditCheckpoint.findFirst({ orderBy: { number: "desc" }, select: { number: true, lastSeq: true, createdAt: true } }),
  ]);
  // Where it stands now, from the deployment records: an auditor reading "Promoted to Production" must also read
  // that it was reverted, or replaced.
  const production = await loadProductionState(db, releaseId, environments);
  const envName = new Map(environments.map((e) => [e.id, e.name]));
  const events: EvidenceEvent[] = rows.map((e) => ({
    seq: e.seq,
    occurredAt: e.occurredAt,
    type: e.type,
    meaning: isAuditEventType(e.type) ? AUDIT_EVENT_TYPES[e.type] : e.type,
    actorType: e.actorType,
    actorLabel: e.actorLabel,
    ip: e.ip,
    environment: e.environmentId ? (envName.get(e.environmentId) ?? null) : null,
    summary: e.summary,
    sha256: shaOf(e.after) ?? shaOf(e.data),
    otherRelease: (e.objectId && revertedTo.get(e.objectId)) ?? (versionOf(e.after) !== null && versionOf(e.after) !== release.version ? versionOf(e.after) : null),
    hash: e.hash,
  }));

  // Milestones: the first event of each kind, and for deployments the request and the success per environment, listed
  // in the procedure's order: upload, the environments up to the one customers test in, their verdict and the
  // approval, the later environments, the reverts.
  const first = (type: string, where: (e: (typeof rows)[number]) => boolean = () => true) => rows.find((e) => e.type === type && where(e));
  const milestone = (label: string, e: (typeof rows)[number] | undefined): EvidenceMilestone => ({
    label,
    who: e?.actorLabel ?? null,
    at: e?.occurredAt ?? null,
    sha256: e ? (shaOf(e.after) ?? shaOf(e.data)) : null,
    instead: null,
  });
  const rejection = first("RELEASE_REJECTED");
  const decisions = (): EvidenceMilestone[] => {
    const accepted = first("RELEASE_ACCEPTED");
    return [
      // A rejection takes the acceptance's place, unless it came after one (a problem found since).
      ...(accepted || !rejection ? [milestone("Accepted by the customer", accepted)] : []),
      ...(rejection ? [milestone("Rejected by the customer", rejection)] : []),
      milestone("Approved", first("RELEASE_APPROVED")),
    ];
  };
  const acceptance = acceptanceEnvironment(environments);
  const milestones: EvidenceMilestone[] = [milestone("Uploaded", first("RELEASE_CREATED"))];
  if (!acceptance) milestones.push(...decisions());
  for (const env of environments) {
    const inEnv = (e: (typeof rows)[number]) => e.environmentId === env.id && !(e.objectId && revertedTo.has(e.objectId));
    const succeeded = rows.find((e) => e.type === "DEPLOYMENT_SUCCEEDED" && inEnv(e));
    const requested = succeeded ? rows.find((e) => (e.type === "DEPLOYMENT_REQUESTED" || e.type === "REVERT_REQUESTED") && e.objectId === succeeded.objectId) : first("DEPLOYMENT_REQUESTED", inEnv);
    milestones.push({ ...milestone(`${env.isProduction ? "Promoted" : "Deployed"} to ${env.name}`, requested), ...(succeeded ? {} : { at: null }) });
    if (env.id === acceptance?.id) milestones.push(...decisions());
  }
  for (const env of environments) {
    // Taken out again: who asked for the revert, when, and (for the record) the hash of the build it returned to.
    const back = rows.find((e) => e.type === "DEPLOYMENT_SUCCEEDED" && e.environmentId === env.id && e.objectId !== null && revertedTo.has(e.objectId));
    const asked = back && rows.find((e) => e.type === "REVERT_REQUESTED" && e.objectId === back.objectId);
    if (asked) milestones.push(milestone(`Reverted in ${env.name} to ${revertedTo.get(back.objectId!)}`, asked));
  }
  // A rejected release goes no further: the steps after the rejection say so instead of "not yet".
  if (rejection && release.status === "REJECTED") {
    const from = milestones.findIndex((m) => m.label === "Rejected by the customer");
    milestones.forEach((m, i) => {
      if (i > from && !m.at) m.instead = `not taken: rejected by ${rejection.actorLabel}`;
    });
  }

  // In the order they happened (upload, QA, acceptance, accepted, approved, promoted, reverted); the steps not taken
  // last. The sort is stable, so those keep the procedure's order.
  const when = (m: EvidenceMilestone) => m.at?.getTime() ?? Number.MAX_SAFE_INTEGER;
  milestones.sort((a, b) => when(a) - when(b));

  // Rollback steps record the previous release's bytes: they are about other bytes, not a mismatch.
  const recorded = events.filter((e) => e.sha256 !== null && e.otherRelease === null);
  const mismatches = recorded.filter((e) => e.sha256 !== release.artifactSha256);
  const lastSeq = rows.at(-1)?.seq ?? null;
  // Refused attempts (approve, accept, deploy, revert... without the right; a deployment its gates refused), with
  // what the refusal said.
  const refusals = rows.flatMap((e, i) => (REFUSALS.includes(e.type) ? [{ ...events[i]!, reason: reasonOf(e.data) }] : []));
  return {
    release,
    production,
    events,
    milestones,
    refusals,
    hashes: { checked: recorded.length, mismatches },
    checkpoint: checkpoint && lastSeq !== null && checkpoint.lastSeq >= lastSeq ? checkpoint : null,
  };
}
