import "server-only";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import type { Role } from "../db/generated/enums";
import { liveReleaseOf } from "../deployments/live-release";
import { notFound } from "../errors";
import { loadProductionState } from "../releases/load-production-state";
import { approversLacking } from "../releases/policy";
import { approvalRefusal, type LatestVerdict, separationOfDutiesMessage, verdictRefusal } from "./decision-rules";
import { eligibleApprovers } from "./eligible-approvers";
import { acceptanceRunsFor } from "./load-release-for-decision";
import { acceptanceEnvironment, approvalEnvironment, notesTitle, productionEnvironment } from "./stages";

/** How many releases "what changed since production" lists at most. */
const CHANGES_LIMIT = 25;

/**
 * Everything the release's decision panel shows (components/release-decisions.tsx): where to test it, what changed
 * since the release live in production, the verdicts and approvals given, and what this actor may do about it now,
 * with the reason when not (the same rules the domain functions enforce: decision-rules.ts). NOT_FOUND outside the
 * actor's tenant.
 */
export async function getReleaseDecisions(actor: UserActor, releaseId: string) {
  const release = await db.release.findUnique({
    where: { id: releaseId },
    include: {
      application: { include: { environments: { orderBy: { position: "asc" } } } },
      uploadedBy: { select: { id: true, name: true } },
      verdicts: { orderBy: { createdAt: "asc" }, include: { user: { select: { id: true, name: true } }, environment: { select: { name: true } } } },
      approvals: { orderBy: { createdAt: "asc" }, include: { user: { select: { id: true, name: true } }, environment: { select: { name: true } } } },
    },
  });
  if (!release || !can(actor, "application.view", release.applicationId)) throw notFound("Release");
  const app = release.application;
  const acceptance = acceptanceEnvironment(app.environments);
  const gate = approvalEnvironment(app.environments);
  const production = productionEnvironment(app.environments);
  const roles = actor.roles.get(app.id) ?? new Set<Role>();

  const [deployedToAcceptance, acceptanceRuns, live, productionState] = await Promise.all([
    acceptance
      ? db.deployment.count({ where: { releaseId: release.id, environmentId: acceptance.id, kind: "DEPLOY", status: "SUCCEEDED" } }).then((n) => n > 0)
      : Promise.resolve(false),
    acceptance ? acceptanceRunsFor(db, acceptance.id, release.id) : Promise.resolve(null),
    production ? liveReleaseOf(db, production.id) : Promise.resolve(null),
    loadProductionState(db, release.id, app.environments),
  ]);
  const liveRelease = live ? await db.release.findUnique({ where: { id: live.releaseId }, select: { id: true, version: true, createdAt: true } }) : null;
  // What a customer is asked to judge: every release uploaded after the one in production, up to this one.
  const changes =
    liveRelease && liveRelease.createdAt >= release.createdAt
      ? []
      : await db.release.findMany({
          where: { applicationId: app.id, createdAt: { lte: release.createdAt, ...(liveRelease ? { gt: liveRelease.createdAt } : {}) } },
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
          take: CHANGES_LIMIT,
          select: { id: true, version: true, notes: true, status: true },
        });

  const onSha = <T extends { artifactSha256: string }>(rows: T[]) => rows.filter((r) => r.artifactSha256 === release.artifactSha256);
  const lastVerdict = onSha(release.verdicts).at(-1);
  const latestVerdict: LatestVerdict | null = lastVerdict ? { verdict: lastVerdict.verdict, userName: lastVerdict.user.name, reason: lastVerdict.reason } : null;
  const isUploader = release.uploadedById === actor.id;
  const verdictFacts = { actorId: actor.id, release, acceptance, deployedToAcceptance, acceptanceRuns, latestVerdict };
  const customer = can(actor, "release.verdict", app.id);
  const approver = can(actor, "release.approve", app.id) && (gate?.approverRoles.some((r) => roles.has(r)) ?? false);
  const approveRefusal = approver
    ? approvalRefusal({
        actorId: actor.id,
        actorRoles: roles,
        release,
        environment: gate,
        alreadyApproved: release.approvals.some((a) => a.userId === actor.id && a.environmentId === gate?.id && a.artifactSha256 === release.artifactSha256),
        latestVerdict,
      })
    : null;
  const yourApproval = gate ? onSha(release.approvals).find((a) => a.userId === actor.id && a.environmentId === gate.id) : undefined;
  const acceptRefusal = customer ? verdictRefusal({ ...verdictFacts, verdict: "ACCEPTED" }) : null;
  const rejectRefusal = customer ? verdictRefusal({ ...verdictFacts, verdict: "REJECTED" }) : null;
  const gateApprovals = gate ? onSha(release.approvals).filter((a) => a.environmentId === gate.id) : [];
  // Approvals that can never come (nobody but the uploader may give them): said, not waited for in silence.
  const lacking =
    gate && gate.requiredApprovals > 0 && gateApprovals.length < gate.requiredApprovals
      ? approversLacking(gate, await eligibleApprovers(db, gate), new Set(gateApprovals.map((a) => a.userId).filter((id) => id !== release.uploadedById)), release.uploadedById)
      : null;

  return {
    release: {
      id: release.id,
      applicationId: app.id,
      applicationName: app.name,
      version: release.version,
      status: release.status,
      sha256: release.artifactSha256,
      notes: release.notes,
      notesTitle: notesTitle(release.notes, release.version),
      hasNotes: release.notes.trim().length > 0,
      uploadedBy: release.uploadedBy,
      createdAt: release.createdAt,
    },
    acceptance: acceptance
      ? {
          id: acceptance.id,
          name: acceptance.name,
          url: acceptance.url,
          deployed: deployedToAcceptance,
          /** It runs there now (what customers can test); otherwise `runs` is what does, if anything of this application. */
          runsThis: acceptanceRuns === "this",
          runs: acceptanceRuns === "this" ? release.version : (acceptanceRuns?.version ?? null),
        }
      : null,
    approvalGate: gate ? { id: gate.id, name: gate.name, requiredApprovals: gate.requiredApprovals, approvals: gateApprovals.length, lacking } : null,
    production: production
      ? {
          name: production.name,
          live: liveRelease ? { id: liveRelease.id, version: liveRelease.version } : null,
          /** This release in production: live, or how it left (reverted or superseded), or never there. */
          state: productionState ?? { state: "never" as const },
        }
      : null,
    changes: changes.map((c) => ({ id: c.id, version: c.version, title: notesTitle(c.notes, c.version), hasNotes: c.notes.trim().length > 0, status: c.status, isThis: c.id === release.id })),
    verdicts: release.verdicts.map((v) => ({
      id: v.id,
      verdict: v.verdict,
      reason: v.reason,
      by: v.user.name,
      at: v.createdAt,
      environment: v.environment.name,
      sha256: v.artifactSha256,
      onThisBuild: v.artifactSha256 === release.artifactSha256,
    })),
    /** The verdict that stands on this build: who gave it, when, where and why (the review page shows it in place of the forms). */
    decided: lastVerdict
      ? { verdict: lastVerdict.verdict, by: lastVerdict.user.name, byYou: lastVerdict.userId === actor.id, at: lastVerdict.createdAt, environment: lastVerdict.environment.name, reason: lastVerdict.reason }
      : null,
    approvals: release.approvals.map((a) => ({
      id: a.id,
      by: a.user.name,
      at: a.createdAt,
      environment: a.environment.name,
      comment: a.comment,
      sha256: a.artifactSha256,
      onThisBuild: a.artifactSha256 === release.artifactSha256,
    })),
    you: {
      isUploader,
      /** A customer tester (not the uploader) may accept / reject now. */
      canAccept: customer && acceptRefusal === null,
      canReject: customer && rejectRefusal === null,
      canApprove: approver && approveRefusal === null,
      /** This person's approval of this build, if they gave one. */
      approved: approver && yourApproval ? { at: yourApproval.createdAt, comment: yourApproval.comment } : null,
      /**
       * Why this person has no button where their role would give them one (and, for the uploader, why never). Not
       * for a decision already made (CONFLICT): the page shows that decision instead of warning about it.
       */
      why: isUploader
        ? [separationOfDutiesMessage(release.version)]
        : [
            ...new Set(
              [...(customer ? [acceptRefusal] : []), ...(approver ? [approveRefusal] : [])].flatMap((r) => (r && r.code !== "CONFLICT" ? [r.message] : [])),
            ),
          ],
    },
  };
}

export type ReleaseDecisions = Awaited<ReturnType<typeof getReleaseDecisions>>;
