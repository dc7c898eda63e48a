import "server-only";
import { acceptanceEnvironment } from "../approvals/stages";
import { db } from "../db/client";
import type { NotificationEventType } from "./event-types";
import { publish } from "./publish";
import { PERMISSIONS } from "../auth/permissions";
import { continuePermissionFor, whoMayContinue } from "../deployments/rollout-control-permissions";
import { siteWords } from "../rollouts/planner";
import { publicUrl } from "./public-url";
import { links, membersWithRoles } from "./recipients";
import { releaseLabel } from "../deployments/release-label";

const ENDED = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

/**
 * Tells people and webhooks where a deployment (or revert) stands: deployment.scheduled when it was scheduled for a
 * time, deployment.started once it has started, and once it has ended deployment.succeeded / .failed / .cancelled,
 * or deployment.reverted for a revert that succeeded (a scheduled deployment can end without starting: cancelled,
 * or refused at its time because a gate no longer held). A
 * deploy that succeeded in the acceptance environment (lib/approvals/stages.ts) also publishes
 * release.ready_for_acceptance to the application's customer testers.
 *
 * Idempotent: each of these is published once per deployment however often this is called, so the rollout engine
 * may call it after every commit of advanceRollout (lib/rollouts/advance-rollout.ts), and the notification timer
 * calls it for deployments whose audit record shows a start or an end (catching up after a crash between a commit
 * and its notification). Call it after the commit, never inside the transaction.
 */
export async function onDeploymentFinished(deploymentId: string): Promise<void> {
  const d = await db.deployment.findUnique({
    where: { id: deploymentId },
    include: {
      environment: { include: { application: { include: { environments: true } } } },
      release: { select: { id: true, version: true, artifactSha256: true, status: true, uploadedById: true } },
      previousRelease: { select: { id: true, version: true, artifactSha256: true, uploadedById: true } },
      requestedBy: { select: { id: true, name: true } },
    },
  });
  if (!d) return;
  const env = d.environment;
  const app = env.application;
  const ops = env.isProduction ? await membersWithRoles(app.id, ["OPS"]) : [];
  const link = links.deployment(d.id);
  const v = releaseLabel(d.release);
  const what = d.kind === "REVERT" ? `Revert of ${app.name} / ${env.name} to ${v}` : `Deployment of ${app.name} ${v} to ${env.name}`;
  const by = d.requestedBy ? ` by ${d.requestedBy.name}` : "";
  const data = (status: string) => ({
    application: { id: app.id, name: app.name },
    environment: { id: env.id, name: env.name, url: env.url, isProduction: env.isProduction },
    // Null for a revert to the builds the servers ran before Releasegate.
    release: d.release ? { id: d.release.id, version: v, sha256: d.release.artifactSha256 } : null,
    previousRelease: d.previousRelease ? { id: d.previousRelease.id, version: d.previousRelease.version, sha256: d.previousRelease.artifactSha256 } : null,
    deployment: {
      id: d.id,
      kind: d.kind,
      status,
      reason: d.reason,
      freezeOverrideReason: d.freezeOverrideReason,
      failureReason: status === "FAILED" ? d.failureReason : null,
      requestedBy: d.requestedBy,
      scheduledFor: d.scheduledFor?.toISOString() ?? null,
      startedAt: d.startedAt?.toISOString() ?? null,
      finishedAt: ENDED.has(status) ? (d.finishedAt?.toISOString() ?? null) : null,
      ...(d.pausedAt ? { pause: { afterSite: d.pausedAfterSite, pausedAt: d.pausedAt.toISOString() } } : {}),
    },
    url: publicUrl(link),
  });

  if (d.scheduledFor) {
    // A maintenance window is news for the other ops and for whoever built the release, before it happens.
    await publish({
      id: `deployment.scheduled:${d.id}`,
      type: "deployment.scheduled",
      applicationId: app.id,
      occurredAt: d.createdAt,
      idempotent: true,
      excludeIds: [d.requestedById],
      audiences: [{ recipientIds: [...ops, d.release?.uploadedById], title: `${what} is scheduled for ${formatUtc(d.scheduledFor)}`, body: `Scheduled${by}${d.reason ? `: ${d.reason}` : "."}`, link }],
      data: data("SCHEDULED"),
    });
  }
  if (d.startedAt) {
    await publish({
      id: `deployment.started:${d.id}`,
      type: "deployment.started",
      applicationId: app.id,
      occurredAt: d.startedAt,
      idempotent: true,
      excludeIds: [d.requestedById],
      audiences: [{ recipientIds: [...ops, d.release?.uploadedById], title: `${what} started`, body: `Started${by}${d.reason ? `: ${d.reason}` : "."}`, link }],
      data: data("RUNNING"),
    });
  }
  if (d.pausedAt) {
    // Nothing moves until someone continues it: the people who may are told, and whoever asked for it.
    const mayContinue = await membersWithRoles(app.id, PERMISSIONS[continuePermissionFor(env)].roles);
    await publish({
      id: `deployment.paused:${d.id}`,
      type: "deployment.paused",
      applicationId: app.id,
      occurredAt: d.pausedAt,
      idempotent: true,
      audiences: [
        {
          recipientIds: [d.requestedById, ...mayContinue],
          title: `${what} is paused after ${siteWords(d.pausedAfterSite ?? "its first site")}`,
          body: `It waits for someone to continue it with the next site (${whoMayContinue(env).toLowerCase()} may), or to stop it.`,
          link,
        },
      ],
      data: data("RUNNING"),
    });
  }
  if (!ENDED.has(d.status) || !d.finishedAt) return;

  const type: NotificationEventType =
    d.status === "SUCCEEDED" ? (d.kind === "REVERT" ? "deployment.reverted" : "deployment.succeeded") : d.status === "FAILED" ? "deployment.failed" : "deployment.cancelled";
  const title = {
    "deployment.succeeded": `${app.name} ${v} is live in ${env.name}`,
    "deployment.reverted": `${app.name} / ${env.name} was reverted to ${v}`,
    "deployment.failed": `${what} failed`,
    "deployment.cancelled": `${what} was cancelled`,
  }[type as "deployment.succeeded" | "deployment.reverted" | "deployment.failed" | "deployment.cancelled"];
  const body =
    d.status === "FAILED"
      ? (d.failureReason ?? "The rollout failed.")
      : d.status === "CANCELLED" && !d.startedAt
        ? `It was scheduled for ${formatUtc(d.scheduledFor)}${by}; it was cancelled before it started.`
        : d.kind === "REVERT"
        ? `${d.previousRelease ? `${d.previousRelease.version} was taken out` : "Reverted"}${by}${d.reason ? `: ${d.reason}` : "."}`
        : `Requested${by}${d.reason ? `: ${d.reason}` : "."}`;
  await publish({
    id: `${type}:${d.id}`,
    type,
    applicationId: app.id,
    occurredAt: d.finishedAt,
    idempotent: true,
    // Nobody is told of their own action: not whoever cancelled it, nor the person who deployed or reverted when it
    // succeeded as they asked. They are told when it failed or someone else cancelled it, or when it ran without
    // them (their pipeline's token asked for it, or it started at a time they scheduled).
    excludeIds: [d.cancelRequestedById, (await wentAsTheyWatched(d)) ? d.requestedById : null],
    audiences: [{ recipientIds: [d.requestedById, d.release?.uploadedById, d.previousRelease?.uploadedById, ...ops], title, body, link }],
    data: data(d.status),
  });

  const acceptance = acceptanceEnvironment(app.environments);
  if (d.kind === "DEPLOY" && d.status === "SUCCEEDED" && acceptance?.id === env.id && d.release?.status === "CANDIDATE") {
    const release = d.release;
    // The deployment in the link makes it this occurrence's (publish's idempotence relies on it): a later deployment
    // of the same build to acceptance asks again.
    const review = `${links.review(app.id, release.id)}?deployment=${d.id}`;
    const customers = await membersWithRoles(app.id, ["CUSTOMER"]);
    await publish({
      id: `release.ready_for_acceptance:${d.id}`,
      type: "release.ready_for_acceptance",
      applicationId: app.id,
      occurredAt: d.finishedAt,
      idempotent: true,
      // Whoever uploaded it may not judge it, even holding the customer role.
      excludeIds: [release.uploadedById],
      audiences: [
        {
          recipientIds: customers,
          title: `Test ${app.name} ${v}`,
          body: `It runs in ${env.name}${env.url ? ` at ${env.url}` : ""}: test it, then accept it or reject it with a reason.`,
          link: review,
          ask: { kind: "TEST", releaseId: d.release.id },
        },
      ],
      data: { ...data(d.status), url: publicUrl(links.review(app.id, release.id)) },
    });
  }
}

/** The requester asked for it themselves (not through a token), for now, and it succeeded: they saw it happen. */
async function wentAsTheyWatched(d: { id: string; environmentId: string; status: string; scheduledFor: Date | null; requestedById: string | null }): Promise<boolean> {
  if (!d.requestedById || d.status !== "SUCCEEDED" || d.scheduledFor) return false;
  // The request's audit event says who asked: the person, or a token they created (the deployment row keeps only the person).
  const asked = await db.auditEvent.findFirst({
    where: { environmentId: d.environmentId, objectType: "Deployment", objectId: d.id, type: { in: ["DEPLOYMENT_REQUESTED", "REVERT_REQUESTED"] } },
    select: { actorType: true },
  });
  return asked?.actorType === "USER";
}

/** Emails and inboxes are read anywhere: an instant with its zone spelled out. */
const formatUtc = (d: Date | null) => (d ? `${d.toISOString().slice(0, 16).replace("T", " ")} UTC` : "a later time");
