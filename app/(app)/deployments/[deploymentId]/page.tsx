import type { Metadata } from "next";
import Link from "next/link";
import { DeploymentStatusBadge, deploymentTone, formatTime, KIND_LABELS, ProgressBar, STEP_ACTION_LABELS, StepStatusBadge, WillNotStart } from "@/components/deployment-status";
import { AnalysisFigures } from "@/components/analysis-figures";
import { Elapsed } from "@/components/elapsed";
import { Countdown, LocalTime } from "@/components/local-time";
import { ActionForm } from "@/components/form";
import { LiveRefresh } from "@/components/live-refresh";
import { StepLog } from "@/components/step-log";
import { Badge, Card, PageHeader, plural } from "@/components/ui";
import { getDeployment } from "@/lib/deployments/get-deployment";
import { progressFraction, serverRolloutState } from "@/lib/deployments/rollout-progress";
import { loadForPage, pageIds, requirePageActor } from "@/lib/entry/page";
import { cancelDeploymentAction, continueDeploymentAction } from "./actions";
import { NO_SITE_NAME, siteWords } from "@/lib/rollouts/planner";
import { releaseLabel } from "@/lib/deployments/release-label";

export const metadata: Metadata = { title: "Deployment" };
export const dynamic = "force-dynamic";

export default async function DeploymentPage({ params }: { params: Promise<{ deploymentId: string }> }) {
  const { deploymentId } = await pageIds(params);
  const actor = await requirePageActor();
  const d = await loadForPage(() => getDeployment(actor, { deploymentId }), "a deployment");
  const now = new Date().toISOString();
  const env = d.environment;
  const app = env.application;
  const version = releaseLabel(d.release);
  const title = d.kind === "REVERT" ? `Revert ${env.name} to ${version}` : `Deploy ${version} to ${env.name}`;
  // Builds another tool had installed, which this deployment's activations replaced (or, for a revert to them, restores).
  const outside = d.servers.flatMap((x) => x.steps.filter((s) => s.action === "ACTIVATE" && s.fromPath).map((s) => `${x.name}: ${s.fromPath}`));
  const p = d.progress;
  const stopping = d.cancelRequestedAt !== null && d.active;
  const broken = (status: string) => status === "FAILED" || status === "INTERRUPTED";
  // While a rollout goes on normally, a server without an activation yet gets one when its batch comes.
  const advancing = d.status === "RUNNING" && !stopping && !d.servers.some((x) => x.steps.some((s) => broken(s.status)));
  return (
    <>
      <PageHeader
        title={title}
        subtitle={
          <>
            <Link href={`/apps/${app.id}`} className="text-indigo-700 hover:underline">
              {app.name}
            </Link>
            {" / "}
            <Link href={`/apps/${app.id}/environments/${env.id}`} className="text-indigo-700 hover:underline">
              {env.name}
            </Link>
            {" · "}
            {app.customer.name}
          </>
        }
        actions={
          <div className="flex items-center gap-4">
            {d.active && <LiveRefresh url={`/api/deployments/${d.id}/events?since=${encodeURIComponent(d.fingerprint)}`} />}
            {d.mayCancel && (
              <ActionForm
                action={cancelDeploymentAction}
                inline
                variant="danger"
                submitLabel={d.status === "SCHEDULED" ? "Cancel scheduled deployment" : "Stop deployment"}
                pendingLabel={d.status === "SCHEDULED" ? "Cancelling…" : "Stopping…"}
                confirm={
                  d.status === "SCHEDULED"
                    ? `Cancel the deployment of ${version} to ${env.name} scheduled for ${formatTime(d.scheduledFor)}?`
                    : `Stop the ${d.kind === "REVERT" ? "revert" : "deployment"} of ${version} to ${env.name}? Servers already switched are returned to ${d.previousRelease?.version ?? "what they ran before"}.`
                }
              >
                <input type="hidden" name="deploymentId" value={d.id} />
              </ActionForm>
            )}
          </div>
        }
      />

      <section aria-label="Summary" className="mb-6 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="deployment-summary">
        <div className="flex flex-wrap items-center gap-3">
          <DeploymentStatusBadge status={d.status} stopping={stopping} paused={d.waitingToContinue} />
          <span className="text-sm text-slate-700" data-testid="progress-label">
            {progressLabel(d.status, p)}
          </span>
          <span className="ml-auto text-sm text-slate-500">
            {d.startedAt ? (
              <>
                {d.finishedAt ? "took " : "running for "}
                <Elapsed since={d.startedAt.toISOString()} until={d.finishedAt?.toISOString() ?? null} now={now} />
              </>
            ) : d.status === "SCHEDULED" && d.scheduledFor ? (
              <>
                starts <Countdown to={d.scheduledFor.toISOString()} now={now} />
              </>
            ) : (
              "not started"
            )}
          </span>
        </div>
        {p.total > 0 && d.status !== "SCHEDULED" && <ProgressBar className="mt-3" value={progressFraction(p)} tone={deploymentTone(d.status)} label={`${p.done} of ${p.total} steps`} />}
        {d.failureReason && (
          <div role="alert" className="mt-4 rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-900" data-testid="failure-reason">
            <span className="font-medium">Why it {d.status === "CANCELLED" ? "stopped" : d.startedAt ? "failed" : "did not start"}:</span> {d.failureReason}
          </div>
        )}
        <WillNotStart blockers={d.scheduledBlockers} className="mt-4 px-3 py-2 text-sm" />
        {d.waitingToContinue && d.pausedAfterSite && (
          <div className="mt-4 flex flex-wrap items-center gap-3 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="paused">
            <p>
              <span className="font-medium">Paused after {siteWords(d.pausedAfterSite)}: continue when ready.</span> {d.whoMayContinue} of {app.name} may continue it
              {d.nextSite ? <>; the rollout then goes on with {siteWords(d.nextSite)}</> : null}. Stopping it instead returns the updated servers to{" "}
              {d.previousRelease?.version ?? "what they ran before"}.
            </p>
            {d.mayContinue && (
              <ActionForm
                action={continueDeploymentAction}
                inline
                submitLabel="Continue to the next site"
                pendingLabel="Continuing…"
                confirm={`Continue the deployment of ${version} to ${env.name}${d.nextSite ? ` with ${siteWords(d.nextSite)}` : ""}?`}
              >
                <input type="hidden" name="deploymentId" value={d.id} />
              </ActionForm>
            )}
          </div>
        )}
        {stopping && (
          <p className="mt-4 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
            {d.cancelRequestedBy?.name ?? "Someone"} asked to stop at {formatTime(d.cancelRequestedAt, true)}: running steps finish, then updated servers are rolled back.
          </p>
        )}
        <dl className="mt-4 grid gap-x-6 gap-y-3 text-sm sm:grid-cols-2 lg:grid-cols-4">
          <Fact label="Release">
            {d.release ? (
              <>
                <span className="font-medium">{d.release.version}</span>{" "}
                <code className="rounded bg-slate-100 px-1 font-mono text-xs text-slate-700" title={`sha256 ${d.release.artifactSha256}`} data-testid="release-sha">
                  {d.release.artifactSha256.slice(0, 12)}
                </code>
                {d.release.needsMigration && (
                  <span className="ml-1">
                    <Badge tone="amber">migration</Badge>
                  </span>
                )}
              </>
            ) : (
              <span data-testid="release-earlier-builds">
                none: each server returns to the build installed outside Releasegate it ran before ({d.earlierBuilds.map((b) => `${b.server}: ${b.path}`).join(", ") || "see the servers below"})
              </span>
            )}
          </Fact>
          <Fact label={d.kind === "REVERT" ? "Returns from" : "Replaces"}>
            {d.previousRelease ? (
              <span title={`sha256 ${d.previousRelease.artifactSha256}`}>
                {d.previousRelease.version}
                {d.previousRelease.id === d.release?.id && <span className="text-slate-500"> (the same release: a redeploy)</span>}
              </span>
            ) : outside.length > 0 ? (
              <span>builds installed outside Releasegate ({outside.join(", ")})</span>
            ) : (
              <span className="text-slate-500">nothing (first deployment)</span>
            )}
          </Fact>
          <Fact label="Kind">
            {KIND_LABELS[d.kind]} · {d.strategy === "ROLLING" ? `rolling, ${plural(d.batchSize, "server")} at a time` : "all at once"}
          </Fact>
          <Fact label="Requested">
            {d.requestedBy?.name ?? "a build pipeline"} · {formatTime(d.createdAt)}
          </Fact>
          {d.siteGroups.some((g) => g.name !== null) && (
            <Fact label="Sites" wide>
              <span data-testid="site-plan">
                {d.siteGroups.map((g) => g.name ?? "servers without a site").join(" → ")}
                {d.siteOrder === "SMALLEST_FIRST" ? " (smallest first)" : ""}
                {d.siteFloor > 0 ? ` · at least ${plural(d.siteFloor, "server")} of each site serving throughout` : ""}
                {d.pauseAfterFirstSite && d.kind === "DEPLOY" ? " · pauses after the first site" : ""}
              </span>
            </Fact>
          )}
          {d.pausedAt && d.pausedAfterSite && (
            <Fact label="Paused" wide>
              <span data-testid="pause-record">
                after {siteWords(d.pausedAfterSite)}, {formatTime(d.pausedAt, true)}
                {d.continuedAt ? `; continued by ${d.continuedBy?.name ?? "someone"} at ${formatTime(d.continuedAt, true)}` : d.waitingToContinue ? "; waiting for someone to continue" : "; never continued"}
              </span>
            </Fact>
          )}
          {d.scheduledFor && (
            <Fact label="Scheduled for">
              <LocalTime iso={d.scheduledFor.toISOString()} testId="scheduled-time" />
            </Fact>
          )}
          {d.reason && (
            <Fact label="Reason" wide>
              {d.reason}
            </Fact>
          )}
          {d.freezeOverrideReason && (
            <Fact label="Freeze override" wide>
              {d.freezeOverrideReason}
            </Fact>
          )}
        </dl>
      </section>

      <h2 className="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-500">Servers</h2>
      {d.servers.length === 0 ? (
        <p className="text-sm text-slate-500">No servers take part in this deployment.</p>
      ) : (
        <div className="space-y-6">
          {d.siteGroups.map((group, i) => (
            <section key={group.key} aria-label={group.name ? `Site ${group.name}` : d.siteGroups.length > 1 ? "Servers without a site" : "Servers"} data-testid={group.name ? `rollout-site-${group.name}` : "rollout-site-none"}>
              {/* One heading per site, in the order the rollout walks them; none when the environment has no sites. */}
              {(group.name || d.siteGroups.length > 1) && (
                <h3 className="mb-2 flex flex-wrap items-center gap-2 text-sm font-semibold text-slate-700">
                  <span className="tabular-nums text-slate-400">{i + 1}.</span> {group.name ? `Site ${group.name}` : "Servers without a site"}{" "}
                  <span className="font-normal text-slate-500">{siteProgress(group.servers)}</span>
                  {d.waitingToContinue && d.nextSite === (group.name ?? NO_SITE_NAME) && (
                    <>
                      {" "}
                      <Badge tone="amber">next, once continued</Badge>
                    </>
                  )}
                </h3>
              )}
              <ol className="space-y-4">
                {group.servers.map((server) => {
                  const state = serverRolloutState(server.steps);
                  const activated = server.steps.some((s) => s.action === "ACTIVATE");
                  return (
                    <li key={server.id}>
                      <Card title={server.name} actions={<Badge tone={state.tone}>{state.label}</Badge>}>
                        <div data-testid={`rollout-server-${server.name}`}>
                          {server.steps.length > 0 && (
                            <ul className="divide-y divide-slate-100">
                              {server.steps.map((s) => (
                                <li key={s.id} className="py-2 first:pt-0 last:pb-0" data-testid={`step-${s.action}`}>
                                  <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
                                    <span className="w-20 font-medium text-slate-800">{STEP_ACTION_LABELS[s.action]}</span>
                                    <StepStatusBadge status={s.status} />
                                    {/* The phase is news while the step runs, and says where it broke; after success it is noise. */}
                                    {s.phase && (s.status === "RUNNING" || s.status === "CLAIMED") && <span className="font-mono text-xs text-slate-600">{s.phase}</span>}
                                    {s.phase && broken(s.status) && <span className="text-xs text-rose-700">during {s.phase}</span>}
                                    {s.attempt > 1 && <span className="text-xs text-amber-700">attempt {s.attempt}</span>}
                                    <span className="ml-auto text-xs text-slate-500">
                                      {s.startedAt ? <Elapsed since={s.startedAt.toISOString()} until={s.finishedAt?.toISOString() ?? null} now={now} /> : "—"}
                                    </span>
                                  </div>
                                  {s.message && (
                                    <p className={`mt-1 text-sm ${broken(s.status) ? "text-rose-800" : "text-slate-600"}`} data-testid="step-message">
                                      {s.message}
                                    </p>
                                  )}
                                  {(s.action === "STAGE" || s.phase === "baking") && (s.status === "RUNNING" || s.status === "CLAIMED") && s.progress !== null && (
                                    <div className="mt-1 flex items-center gap-2">
                                      <ProgressBar value={s.progress} label={s.action === "STAGE" ? `Staging ${server.name}` : `Watching ${server.name}`} className="max-w-xs" />
                                      <span className="text-xs tabular-nums text-slate-500">{Math.round(s.progress * 100)}%</span>
                                    </div>
                                  )}
                                  {s.analysis && <AnalysisFigures server={server.name} version={d.release?.version ?? null} analysis={s.analysis} />}
                                  <StepLog url={`/api/deployments/${d.id}/steps/${s.id}/logs`} nextSeq={s.logSeq} label="Log" defaultOpen={broken(s.status)} />
                                </li>
                              ))}
                            </ul>
                          )}
                          {!activated && advancing && (
                            <p className={`text-sm text-slate-500 ${server.steps.length > 0 ? "mt-2 border-t border-slate-100 pt-2" : ""}`}>
                              <span className="inline-block w-20 font-medium text-slate-600">Activate</span>{" "}
                              {d.waitingToContinue ? "waiting until someone continues the rollout" : "waiting for its turn"}
                            </p>
                          )}
                          {!activated && !d.active && d.kind === "DEPLOY" && d.status !== "SUCCEEDED" && (
                            <p className={`text-sm text-slate-500 ${server.steps.length > 0 ? "mt-2 border-t border-slate-100 pt-2" : ""}`}>
                              Not updated: the rollout stopped before this server&apos;s turn.
                            </p>
                          )}
                          {server.steps.length === 0 && !advancing && d.active && <p className="text-sm text-slate-500">Waiting.</p>}
                        </div>
                      </Card>
                    </li>
                  );
                })}
              </ol>
            </section>
          ))}
        </div>
      )}
    </>
  );
}

/** "2/3 updated", "1/2 rolled back": where a site's servers stand. */
function siteProgress(servers: { steps: { action: string; status: string }[] }[]): string {
  const last = (x: { steps: { action: string; status: string }[] }) => x.steps.filter((s) => s.action !== "STAGE").at(-1);
  const rolledBack = servers.filter((x) => last(x)?.action === "ROLLBACK" && last(x)?.status === "SUCCEEDED").length;
  const updated = servers.filter((x) => last(x)?.action === "ACTIVATE" && last(x)?.status === "SUCCEEDED").length;
  return rolledBack > 0 ? `${rolledBack}/${servers.length} rolled back` : `${updated}/${servers.length} updated`;
}

function Fact({ label, children, wide = false }: { label: string; children: React.ReactNode; wide?: boolean }) {
  return (
    <div className={wide ? "sm:col-span-2" : ""}>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-0.5 text-slate-800">{children}</dd>
    </div>
  );
}

function progressLabel(status: string, p: { done: number; total: number; servers: number; updated: number; rolledBack: number }): string {
  if (status === "SCHEDULED") return `Waits for its time · ${plural(p.servers, "server")} to update`;
  // Ended before any step (cancelled while scheduled, or refused at its time): nothing ran anywhere.
  if (p.total === 0 && ["FAILED", "CANCELLED"].includes(status)) return "No server was touched";
  const steps = `${p.done} of ${plural(p.total, "step")}`;
  if (status === "ROLLING_BACK" || p.rolledBack > 0) return `${steps} · ${p.rolledBack}/${p.servers} servers rolled back`;
  return `${steps} · ${p.updated}/${p.servers} servers updated`;
}
