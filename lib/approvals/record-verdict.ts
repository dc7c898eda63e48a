import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan } from "../auth/permissions";
import { db } from "../db/client";
import { AppError, conflict } from "../errors";
import { afterCommit } from "../notifications/background";
import { onVerdictRecorded } from "../notifications/on-release-decision";
import { parseInput, ZText } from "../validation";
import { VERDICT_FROM, verdictRefusal } from "./decision-rules";
import { acceptanceRunsFor, latestVerdictOn, loadReleaseForDecision } from "./load-release-for-decision";
import { acceptanceEnvironment } from "./stages";

export const ZArtifactSha256Schema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[0-9a-f]{64}$/, "The artifact's SHA-256 is 64 hexadecimal characters.");

export const ZRecordVerdictRequestSchema = z
  .object({
    releaseId: z.uuid("Pick a release."),
    verdict: z.enum(["ACCEPTED", "REJECTED"], "Accept or reject the release."),
    reason: ZText().trim().max(2000, "Keep the reason under 2,000 characters.").default(""),
    /** The digest of the build the person tested, as the page showed it: the verdict is bound to these bytes. */
    artifactSha256: ZArtifactSha256Schema,
  })
  .superRefine((v, ctx) => {
    if (v.verdict === "REJECTED" && v.reason === "") {
      ctx.addIssue({ code: "custom", path: ["reason"], message: "Say what is wrong, so the developers can fix it." });
    }
  });
export type TRecordVerdictRequest = z.input<typeof ZRecordVerdictRequestSchema>;

/**
 * A customer's verdict on a release they tested in the acceptance environment (lib/approvals/stages.ts): accept it,
 * or reject it with a reason. Bound to the artifact's SHA-256. Only a customer tester of the application, never the
 * person who uploaded it (even holding the customer role), and only once it has been deployed successfully to
 * acceptance; an acceptance only while acceptance still runs it. Acceptance moves a candidate to ACCEPTED; a
 * rejection moves a candidate, or an accepted or approved release not yet live, to REJECTED (it then cannot be
 * promoted). The developer who uploaded it is notified. Sent again by the same person (`repeated`), it changes nothing.
 */
export async function recordVerdict(actor: UserActor, raw: TRecordVerdictRequest) {
  const input = parseInput(ZRecordVerdictRequestSchema, raw);
  const outcome = await db.$transaction(async (tx) => {
    const release = await loadReleaseForDecision(tx, actor, input.releaseId);
    assertCan(actor, "release.verdict", release.applicationId, { releaseId: release.id });
    const app = release.application;
    // The same person sending the same verdict on the same bytes again (their answer was lost on the way): the one
    // recorded stands, and they are told so, not refused; nothing new is written.
    const mine = await tx.acceptanceVerdict.findFirst({ where: { releaseId: release.id, artifactSha256: release.artifactSha256 }, orderBy: { createdAt: "desc" } });
    if (mine && mine.userId === actor.id && mine.verdict === input.verdict && input.artifactSha256 === release.artifactSha256) {
      return { verdict: mine, release: { id: release.id, version: release.version, status: release.status }, repeated: true };
    }
    const acceptance = acceptanceEnvironment(app.environments);
    const deployedToAcceptance =
      acceptance !== null &&
      (await tx.deployment.count({ where: { releaseId: release.id, environmentId: acceptance.id, kind: "DEPLOY", status: "SUCCEEDED" } })) > 0;
    const refusal = verdictRefusal({
      verdict: input.verdict,
      actorId: actor.id,
      release,
      acceptance,
      deployedToAcceptance,
      acceptanceRuns: acceptance ? await acceptanceRunsFor(tx, acceptance.id, release.id) : null,
      latestVerdict: await latestVerdictOn(tx, release),
    });
    if (refusal) throw new AppError(refusal.code, refusal.message, { scope: { applicationId: app.id, environmentId: acceptance?.id ?? null, releaseId: release.id } });
    if (input.artifactSha256 !== release.artifactSha256) {
      throw conflict(`This page showed a build (${input.artifactSha256.slice(0, 12)}) that is not ${release.version}'s (${release.artifactSha256.slice(0, 12)}). Reload and test again.`);
    }
    // INVARIANT: the status moves only from a state the rules allow (the row is locked; the condition keeps it so).
    const moved = await tx.release.updateMany({ where: { id: release.id, status: { in: [...VERDICT_FROM[input.verdict]] } }, data: { status: input.verdict } });
    if (moved.count !== 1) throw conflict(`${release.version} changed meanwhile. Reload the page.`);
    const verdict = await tx.acceptanceVerdict.create({
      data: { releaseId: release.id, environmentId: acceptance!.id, userId: actor.id, verdict: input.verdict, reason: input.reason, artifactSha256: release.artifactSha256 },
    });
    const accepted = input.verdict === "ACCEPTED";
    await recordAuditEvent(tx, actor, {
      type: accepted ? "RELEASE_ACCEPTED" : "RELEASE_REJECTED",
      object: { type: "AcceptanceVerdict", id: verdict.id },
      scope: { customerId: app.customerId, applicationId: app.id, environmentId: acceptance!.id, releaseId: release.id },
      summary: `${accepted ? "accepted" : "rejected"} ${app.name} ${release.version} in ${acceptance!.name}${accepted ? "" : `: ${input.reason}`}`,
      before: { status: release.status },
      after: { status: input.verdict, verdict: input.verdict, reason: input.reason, artifactSha256: release.artifactSha256, version: release.version },
    });
    return { verdict, release: { id: release.id, version: release.version, status: input.verdict }, repeated: false };
  });
  if (!outcome.repeated) await afterCommit("verdict notifications", () => onVerdictRecorded(outcome.verdict.id));
  return outcome;
}
