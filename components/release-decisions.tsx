// The release procedure's decisions on one release, for the person looking at it: a customer tester gets Accept and
// Reject (reason required) with where to test and what changed since production; an approver gets Approve; the
// uploader gets no button and a line saying why (separation of duties). Once decided, the verdict (and the viewer's
// approval) shows in place of the forms; everyone sees the verdicts and approvals given, by whom, when and on which
// build. A server component: it reads through lib/approvals (the same rules the
// server actions enforce decide which buttons appear) and hands the actions to client forms.
import Link from "next/link";
import { approveReleaseAction, recordVerdictAction } from "@/app/(app)/apps/[appId]/releases/[releaseId]/decision-actions";
import { getReleaseDecisions, type ReleaseDecisions as Decisions } from "@/lib/approvals/get-release-decisions";
import type { UserActor } from "@/lib/auth/actor";
import { plural } from "@/lib/util/text";
import { formatTime } from "./deployment-status";
import { ActionForm, TextAreaField } from "./form";
import { productionSentence, ReleaseStatusBadge } from "./release-status";
import { Badge, Card } from "./ui";

const short = (sha: string) => sha.slice(0, 12);

/** Where the release stands in the procedure, in one line. */
function nextStep(d: Decisions): string {
  const r = d.release;
  const lastVerdict = d.verdicts.filter((v) => v.onThisBuild).at(-1);
  switch (r.status) {
    case "CANDIDATE":
      if (!d.acceptance) return "This application has no acceptance stage.";
      if (!d.acceptance.deployed) return `Not deployed to ${d.acceptance.name} yet: customers test it there.`;
      return d.acceptance.runsThis
        ? `Waiting for a customer's test in ${d.acceptance.name}.`
        : `No longer in ${d.acceptance.name}${d.acceptance.runs ? `: it runs ${d.acceptance.runs} now` : ""}.`;
    case "ACCEPTED":
      return d.approvalGate && d.approvalGate.requiredApprovals > 0
        ? `Accepted${lastVerdict ? ` by ${lastVerdict.by}` : ""}; ${d.approvalGate.approvals} of ${plural(d.approvalGate.requiredApprovals, "approval")} for ${d.approvalGate.name}.${d.approvalGate.lacking ? ` ${d.approvalGate.lacking}` : ""}`
        : `Accepted${lastVerdict ? ` by ${lastVerdict.by}` : ""}: ready for ops to promote.`;
    case "APPROVED":
      return "Accepted and approved: ready for ops to promote.";
    case "REJECTED":
      return lastVerdict?.verdict === "REJECTED" ? `Rejected by ${lastVerdict.by}: “${lastVerdict.reason}”` : "Rejected.";
    case "RELEASED":
    case "REVERTED":
    case "SUPERSEDED":
      // What production runs, from the deployment records: when, by whom and why it left, if it did.
      return (d.production && productionSentence(d.production.state)) ?? (r.status === "RELEASED" ? "Live in production." : "No longer live in production.");
    default:
      return "Withdrawn.";
  }
}

export async function ReleaseDecisions({ releaseId, actor, decisions }: { releaseId: string; actor: UserActor; decisions?: Decisions }) {
  const d = decisions ?? (await getReleaseDecisions(actor, releaseId));
  const r = d.release;
  const you = d.you;
  const binding = (
    <>
      <input type="hidden" name="releaseId" value={r.id} />
      <input type="hidden" name="artifactSha256" value={r.sha256} />
    </>
  );
  const rejectForm = (
    <ActionForm action={recordVerdictAction} submitLabel={`Reject ${r.version}`} pendingLabel="Rejecting…" variant="danger" retrySafe>
      {binding}
      <input type="hidden" name="verdict" value="REJECTED" />
      <TextAreaField name="reason" label="Why reject it? (required: the developers read this)" maxLength={2000} placeholder="What did you do, what happened, what did you expect?" />
    </ActionForm>
  );
  return (
    <Card title="Acceptance and approval" className="mb-6">
      <div className="space-y-5" data-testid="release-decisions">
        <p className="flex flex-wrap items-center gap-2 text-sm text-slate-800" data-testid="decision-state">
          <ReleaseStatusBadge status={r.status} />
          <span>{nextStep(d)}</span>
        </p>

        {/* Where to test it, while it is to be tested: not once judged, nor once acceptance runs something else. */}
        {d.acceptance && !d.decided && (d.acceptance.runsThis || !d.acceptance.deployed) && (
          <div className="rounded-md border border-slate-200 bg-slate-50 p-3 text-sm" data-testid="test-it">
            <p className="text-slate-800">
              {d.acceptance.deployed ? "Test it in " : "Customers test it in "}
              <span className="font-medium">{d.acceptance.name}</span>
              {d.acceptance.url ? (
                <>
                  {" at "}
                  <a href={d.acceptance.url} target="_blank" rel="noopener noreferrer" className="font-medium text-indigo-700 underline" data-testid="acceptance-url">
                    {d.acceptance.url}
                  </a>
                </>
              ) : (
                " (no URL is set for it)"
              )}
              . Build <code className="font-mono text-xs">{short(r.sha256)}</code>
              {" · "}
              <Link href={`/apps/${r.applicationId}/releases/${r.id}`} className="text-indigo-700 hover:underline">
                {r.hasNotes ? "Release notes" : "Release details"}
              </Link>
            </p>
          </div>
        )}

        <div data-testid="changes-since-production">
          <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">
            What changed since production
            {d.production?.live ? ` (${d.production.name} runs ${d.production.live.version})` : d.production ? ` (nothing in ${d.production.name} yet)` : ""}
          </h3>
          {d.changes.length === 0 ? (
            <p className="mt-1 text-sm text-slate-500">Nothing: production runs this release or a later one.</p>
          ) : (
            <ul className="mt-1 space-y-0.5 text-sm">
              {d.changes.map((c) => (
                <li key={c.id} className="flex flex-wrap items-baseline gap-x-2">
                  <Link href={`/apps/${r.applicationId}/releases/${c.id}`} className="font-medium text-indigo-700 hover:underline">
                    {c.version}
                  </Link>
                  {c.title ? <span className="text-slate-700">{c.title}</span> : !c.hasNotes && <span className="text-slate-400">no release notes</span>}
                  {c.isThis ? <Badge tone="blue">this release</Badge> : c.status === "REJECTED" || c.status === "WITHDRAWN" ? <Badge>{c.status.toLowerCase()}</Badge> : null}
                </li>
              ))}
            </ul>
          )}
        </div>

        {/* Why a button this person's role would give them is missing, before what they can still do. */}
        {you.why.map((line) => (
          <p key={line} className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="decision-why">
            {line}
          </p>
        ))}
        {/* A decision made is shown as such, in place of the forms: who, when, and why. */}
        {(d.decided || you.approved) && (
          <div className="space-y-2" data-testid="decision-made">
            {d.decided && (
              <div className={`rounded-md border px-3 py-2 text-sm ${d.decided.verdict === "ACCEPTED" ? "border-emerald-200 bg-emerald-50 text-emerald-900" : "border-rose-200 bg-rose-50 text-rose-900"}`}>
                <p>
                  <span className="font-medium">{d.decided.byYou ? "You" : d.decided.by}</span> {d.decided.verdict === "ACCEPTED" ? "accepted" : "rejected"} {r.version} in{" "}
                  {d.decided.environment} on {formatTime(d.decided.at)}
                  {d.decided.reason ? ":" : "."}
                </p>
                {d.decided.reason && <p className="mt-0.5" data-testid="decided-reason">“{d.decided.reason}”</p>}
              </div>
            )}
            {you.approved && d.approvalGate && (
              <div className="rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
                <p>
                  <span className="font-medium">You</span> approved {r.version} for {d.approvalGate.name} on {formatTime(you.approved.at)}
                  {you.approved.comment ? ":" : "."}
                </p>
                {you.approved.comment && <p className="mt-0.5">“{you.approved.comment}”</p>}
              </div>
            )}
          </div>
        )}
        {(you.canAccept || (you.canReject && !d.decided) || you.canApprove) && (
          <div className="grid gap-4 md:grid-cols-2" data-testid="decision-actions">
            {you.canAccept && (
              <ActionForm action={recordVerdictAction} submitLabel={`Accept ${r.version}`} pendingLabel="Accepting…" retrySafe>
                {binding}
                <input type="hidden" name="verdict" value="ACCEPTED" />
                <p className="text-sm text-slate-700">
                  You tested build <code className="font-mono text-xs">{short(r.sha256)}</code>
                  {d.acceptance ? ` in ${d.acceptance.name}` : ""} and it works as it should.
                </p>
              </ActionForm>
            )}
            {you.canReject && !d.decided && rejectForm}
            {you.canApprove && d.approvalGate && (
              <ActionForm action={approveReleaseAction} submitLabel={`Approve ${r.version} for ${d.approvalGate.name}`} pendingLabel="Approving…" retrySafe>
                {binding}
                <TextAreaField name="comment" label="Comment (optional)" rows={2} maxLength={1000} placeholder="e.g. change request CR-1234" />
              </ActionForm>
            )}
          </div>
        )}
        {/* After an acceptance, a rejection is a second thought (a problem found since), not a form beside the verdict. */}
        {you.canReject && d.decided && (
          <details data-testid="reject-after-acceptance">
            <summary className="cursor-pointer text-sm font-medium text-rose-700">Found a problem since? Reject {r.version}…</summary>
            <div className="mt-2 max-w-xl">{rejectForm}</div>
          </details>
        )}

        <div className="grid gap-4 md:grid-cols-2">
          <div>
            <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Verdicts</h3>
            {d.verdicts.length === 0 ? (
              <p className="mt-1 text-sm text-slate-500">No customer has judged it yet.</p>
            ) : (
              <ul className="mt-1 space-y-2 text-sm" data-testid="verdicts">
                {d.verdicts.map((v) => (
                  <li key={v.id}>
                    <Badge tone={v.verdict === "ACCEPTED" ? "green" : "red"}>{v.verdict === "ACCEPTED" ? "accepted" : "rejected"}</Badge>{" "}
                    by <span className="font-medium">{v.by}</span> in {v.environment}, {formatTime(v.at)} · build{" "}
                    <code className="font-mono text-xs">{short(v.sha256)}</code>
                    {!v.onThisBuild && <span className="text-slate-500"> (another build)</span>}
                    {v.reason && <p className="mt-0.5 text-slate-700" data-testid="verdict-reason">“{v.reason}”</p>}
                  </li>
                ))}
              </ul>
            )}
          </div>
          <div>
            <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">
              Approvals{d.approvalGate && d.approvalGate.requiredApprovals > 0 ? ` (${d.approvalGate.approvals} of ${d.approvalGate.requiredApprovals} for ${d.approvalGate.name})` : ""}
            </h3>
            {d.approvals.length === 0 ? (
              <p className="mt-1 text-sm text-slate-500">No approvals yet.</p>
            ) : (
              <ul className="mt-1 space-y-2 text-sm" data-testid="approvals">
                {d.approvals.map((a) => (
                  <li key={a.id}>
                    <Badge tone="green">approved</Badge> by <span className="font-medium">{a.by}</span> for {a.environment}, {formatTime(a.at)} · build{" "}
                    <code className="font-mono text-xs">{short(a.sha256)}</code>
                    {!a.onThisBuild && <span className="text-slate-500"> (another build: does not count)</span>}
                    {a.comment && <p className="mt-0.5 text-slate-700">“{a.comment}”</p>}
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
      </div>
    </Card>
  );
}
