import "server-only";
import { approvalEnvironment } from "../approvals/stages";
import { db } from "../db/client";
import { plural, sentence } from "../util/text";
import { publish } from "./publish";
import { publicUrl } from "./public-url";
import { approversOf, links, membersWithRoles, peopleWorkingOn } from "./recipients";

const releaseJson = (r: { id: string; version: string; artifactSha256: string; status: string }) => ({
  id: r.id,
  version: r.version,
  sha256: r.artifactSha256,
  status: r.status,
});

/**
 * After a verdict committed (lib/approvals/record-verdict.ts): a rejection tells the people who work on the release
 * (its uploader, the pipeline token's creator, the application's developers), with the reason; an acceptance tells
 * the uploader, and asks the next people in the procedure to act: those who may approve for the approvals'
 * environment, or ops when it needs no approvals. Webhooks get release.accepted/rejected.
 */
export async function onVerdictRecorded(verdictId: string): Promise<void> {
  const v = await db.acceptanceVerdict.findUnique({
    where: { id: verdictId },
    include: {
      user: { select: { id: true, name: true } },
      environment: { select: { id: true, name: true, url: true } },
      release: { include: { application: { include: { environments: true } }, uploadedBy: { select: { id: true, name: true } } } },
    },
  });
  if (!v) return;
  const r = v.release;
  const app = r.application;
  const review = links.review(app.id, r.id);
  const data = {
    application: { id: app.id, name: app.name },
    release: releaseJson(r),
    environment: { id: v.environment.id, name: v.environment.name, url: v.environment.url },
    verdict: { id: v.id, verdict: v.verdict, reason: v.reason, artifactSha256: v.artifactSha256, by: { id: v.user.id, name: v.user.name } },
    url: publicUrl(review),
  };
  if (v.verdict === "REJECTED") {
    await publish({
      id: `release.rejected:${v.id}`,
      type: "release.rejected",
      applicationId: app.id,
      occurredAt: v.createdAt,
      excludeIds: [v.userId],
      audiences: [
        {
          recipientIds: await peopleWorkingOn(r),
          title: `${app.name} ${r.version} was rejected`,
          body: `${sentence(`${v.user.name} rejected it in ${v.environment.name}: “${v.reason}”`)} Fix it and upload a new release candidate.`,
          link: review,
          ask: { kind: "FIX", releaseId: r.id },
        },
      ],
      data,
    });
    return;
  }
  const gate = approvalEnvironment(app.environments);
  const next =
    gate && gate.requiredApprovals > 0
      ? {
          recipientIds: await approversOf(app.id, gate, r.uploadedById),
          title: `Approve ${app.name} ${r.version} for ${gate.name}`,
          body: `${v.user.name} accepted it in ${v.environment.name}. It needs ${plural(gate.requiredApprovals, "approval")} before ${gate.name}.`,
          link: review,
          ask: { kind: "APPROVE" as const, releaseId: r.id },
        }
      : {
          recipientIds: await membersWithRoles(app.id, ["OPS"]),
          title: `Promote ${app.name} ${r.version}`,
          body: `${v.user.name} accepted it in ${v.environment.name}; it needs no approvals: ready to roll out.`,
          link: links.application(app.id),
          ask: { kind: "PROMOTE" as const, releaseId: r.id },
        };
  await publish({
    id: `release.accepted:${v.id}`,
    type: "release.accepted",
    applicationId: app.id,
    occurredAt: v.createdAt,
    // The uploader can never approve their own release, so they only hear that it was accepted.
    excludeIds: [v.userId],
    audiences: [
      { recipientIds: [r.uploadedById], title: `${app.name} ${r.version} was accepted`, body: `${v.user.name} accepted it in ${v.environment.name}.`, link: review },
      { ...next, recipientIds: next.recipientIds.filter((id) => id !== r.uploadedById) },
    ],
    data,
  });
}

/**
 * After an approval committed (lib/approvals/approve-release.ts): the uploader hears of it; once the approvals
 * required are reached, ops are asked to promote. Webhooks get release.approved with the count and whether the
 * release is now approved.
 */
export async function onReleaseApproved(approvalId: string, outcome: { approvals: number; releaseApproved: boolean }): Promise<void> {
  const a = await db.approval.findUnique({
    where: { id: approvalId },
    include: {
      user: { select: { id: true, name: true } },
      environment: true,
      release: { include: { application: true } },
    },
  });
  if (!a) return;
  const r = a.release;
  const app = r.application;
  const env = a.environment;
  // As the approval's own transaction saw them (the release may have moved on since).
  const { approvals: count, releaseApproved: approved } = outcome;
  const review = links.review(app.id, r.id);
  await publish({
    id: `release.approved:${a.id}`,
    type: "release.approved",
    applicationId: app.id,
    occurredAt: a.createdAt,
    excludeIds: [a.userId],
    audiences: [
      {
        recipientIds: approved ? await membersWithRoles(app.id, ["OPS"]) : [],
        title: `Promote ${app.name} ${r.version} to ${env.name}`,
        body: `${a.user.name} gave the last approval it needed: accepted and approved, ready to roll out.`,
        link: links.application(app.id),
        ask: { kind: "PROMOTE", releaseId: r.id },
      },
      {
        recipientIds: [r.uploadedById],
        title: `${app.name} ${r.version} was approved by ${a.user.name}`,
        body: approved ? `It is approved for ${env.name}.` : `${count} of ${env.requiredApprovals} approvals for ${env.name} so far.`,
        link: review,
      },
    ],
    data: {
      application: { id: app.id, name: app.name },
      release: { ...releaseJson(r), status: approved ? "APPROVED" : "ACCEPTED" },
      environment: { id: env.id, name: env.name },
      approval: { id: a.id, artifactSha256: a.artifactSha256, comment: a.comment, by: { id: a.user.id, name: a.user.name } },
      approvals: count,
      requiredApprovals: env.requiredApprovals,
      approved,
      url: publicUrl(review),
    },
  });
}
