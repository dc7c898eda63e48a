import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { liveReleaseOf } from "../deployments/live-release";
import { notFound } from "../errors";
import { loadProductionState } from "./load-production-state";
import { buildReleaseTimeline } from "./release-timeline";

/**
 * One release of an application for anyone who may view the application: its artifact, notes and migration, where
 * it is live, how it stands in production, and its timeline. Another application's release id, another tenant's included, is NOT_FOUND.
 */
export async function getRelease(actor: UserActor, input: { applicationId: string; releaseId: string }) {
  const ids = z.object({ applicationId: z.uuid(), releaseId: z.uuid() }).safeParse(input);
  if (!ids.success || !can(actor, "application.view", ids.data.applicationId)) throw notFound("Release");
  const { applicationId, releaseId } = ids.data;
  const release = await db.release.findFirst({
    where: { id: releaseId, applicationId },
    include: {
      uploadedBy: { select: { id: true, name: true } },
      application: {
        select: { id: true, name: true, customer: { select: { name: true } }, environments: { orderBy: { position: "asc" }, select: { id: true, name: true, isProduction: true } } },
      },
    },
  });
  if (!release) throw notFound("Release");
  const [deployments, events, live, token, production] = await Promise.all([
    db.deployment.findMany({
      // What carried this release somewhere, and the reverts that took it out again.
      where: { OR: [{ releaseId }, { kind: "REVERT", previousReleaseId: releaseId }] },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: {
        id: true,
        kind: true,
        status: true,
        reason: true,
        failureReason: true,
        createdAt: true,
        finishedAt: true,
        environment: { select: { name: true } },
        release: { select: { id: true, version: true } },
        previousRelease: { select: { id: true, version: true } },
        requestedBy: { select: { name: true } },
      },
    }),
    db.auditEvent.findMany({
      where: { releaseId, applicationId },
      orderBy: { seq: "asc" },
      select: { id: true, type: true, occurredAt: true, actorType: true, actorId: true, actorLabel: true, summary: true, after: true },
    }),
    Promise.all(release.application.environments.map(async (e) => ({ environment: e, live: (await liveReleaseOf(db, e.id))?.releaseId === releaseId }))),
    release.uploadedViaTokenId ? db.apiToken.findUnique({ where: { id: release.uploadedViaTokenId }, select: { name: true } }) : null,
    loadProductionState(db, releaseId, release.application.environments),
  ]);
  // The record labels people by email (what identifies them in an export); a page shows their names.
  const userIds = [...new Set(events.filter((e) => e.actorType === "USER" && e.actorId).map((e) => e.actorId!))];
  const names = new Map((userIds.length ? await db.user.findMany({ where: { id: { in: userIds } }, select: { id: true, name: true } }) : []).map((u) => [u.id, u.name]));
  const named = events.map((e) => ({ ...e, actorLabel: (e.actorType === "USER" && e.actorId ? names.get(e.actorId) : undefined) ?? e.actorLabel }));
  return {
    release,
    uploadedViaToken: token?.name ?? (release.uploadedViaTokenId ? "a revoked token" : null),
    liveIn: live.filter((l) => l.live).map((l) => l.environment),
    /** Live in production, or how it left (reverted or superseded: when, by whom, why); null without production. */
    production,
    timeline: buildReleaseTimeline(releaseId, { deployments, events: named }),
    mayDeploy: can(actor, "deployment.request", applicationId),
  };
}
export type ReleaseDetails = Awaited<ReturnType<typeof getRelease>>;
