// The deploy and revert controls of one environment, with the reasons a release cannot go there yet (the same
// wording the server uses when it refuses), so nobody meets a dead button; a deployment scheduled there, with who
// set it up, when it starts and whether it still would; and for a release that migrates the database, what that
// does in this environment and which of its hooks are missing.
import Link from "next/link";
import type { ActionResult } from "@/lib/entry/action-result";
import { DeployForm } from "./deploy-form";
import { DeploymentStatusBadge, deploymentTone, formatTime, ProgressBar, WillNotStart } from "./deployment-status";
import { ActionForm, Field } from "./form";
import { Countdown, LocalTime } from "./local-time";
import { MarkdownText } from "./markdown";
import { releaseLabel } from "@/lib/deployments/release-label";
import { siteWords } from "@/lib/rollouts/planner";

type Action = (fd: FormData) => Promise<ActionResult<{ redirectTo?: string } | undefined>>;

export interface MigrationHooks {
  maintenanceOn: string | null;
  backup: string | null;
  migrate: string | null;
  maintenanceOff: string | null;
}

export interface DeployPanelOptions {
  environment: { id: string; name: string; isProduction: boolean; applicationId: string; migrationHooks: MigrationHooks; servers: string[] };
  live: { version: string; previousVersion: string | null } | null;
  freeze: { reason: string; endsAt: Date } | null;
  nextFreeze: { reason: string; startsAt: Date; endsAt: Date } | null;
  scheduled: { deploymentId: string; blockers: { code: string; message: string }[] } | null;
  mayDeploy: boolean;
  mayOverrideFreeze: boolean;
  mayCancel: boolean;
  releases: {
    releaseId: string;
    version: string;
    live: boolean;
    blockers: { code: string; message: string }[];
    selectable: boolean;
    needsMigration: boolean;
    migrationInstructions: string;
  }[];
  /** `earlierBuilds`: a revert past Releasegate's first release, to each server's build from before (still on disk). */
  revert: { version: string; earlierBuilds: { server: string; path: string }[] | null; fromVersion: string | null; fromNeedsMigration: boolean } | null;
}

export interface ActiveDeployment {
  id: string;
  kind: string;
  status: string;
  reason: string;
  scheduledFor: Date | null;
  requestedBy: { name: string } | null;
  /** Null for a revert to the builds from before Releasegate. */
  release: { version: string } | null;
  progress: { done: number; total: number; servers: number; updated: number; rolledBack: number };
  /** Paused after its first site (Environment.pauseAfterFirstSite) until someone continues it on its page. */
  pausedAt?: Date | null;
  pausedAfterSite?: string | null;
  continuedAt?: Date | null;
  cancelRequestedAt?: Date | null;
}

/** A rollout that paused after its first site and waits for someone to continue it. */
const waitingToContinue = (d: ActiveDeployment): boolean => d.status === "RUNNING" && !!d.pausedAt && !d.continuedAt && !d.cancelRequestedAt;

const SHORT: Record<string, string> = {
  NOT_ALLOWED: "not allowed",
  WITHDRAWN: "withdrawn",
  REJECTED: "rejected",
  PREVIOUS_ENVIRONMENT: "earlier stage first",
  ACCEPTANCE: "awaiting acceptance",
  APPROVALS: "awaiting approval",
  FROZEN: "frozen",
};

export function DeployPanel({
  options,
  active,
  deploy,
  revert,
  cancel,
}: {
  options: DeployPanelOptions;
  active: ActiveDeployment | null;
  deploy: Action;
  revert: Action;
  cancel: Action;
}) {
  const env = options.environment;
  const selectable = options.releases.filter((r) => r.selectable);
  // Why the others cannot go here, leaving out the one already running here: redeploying it is rare, and its
  // reasons (a gate that has moved on since) would bury the answer people open this for.
  const blocked = options.releases.filter((r) => !r.selectable && !r.live);
  const now = new Date().toISOString();
  const scheduled = active?.status === "SCHEDULED" ? active : null;
  // The override field only where a freeze is on or planned: elsewhere it is noise in a form people use weekly.
  const freezeOverride = !options.mayOverrideFreeze || !(options.freeze || options.nextFreeze) ? "none" : options.freeze ? "required" : "optional";
  return (
    <div className="mt-3 space-y-3 border-t border-slate-100 pt-3" data-testid={`deploy-${env.name}`}>
      <p className="text-sm" data-testid="live-release">
        {options.live ? (
          <>
            Runs <span className="font-semibold">{options.live.version}</span>
            {options.live.previousVersion && <span className="text-slate-500"> · before: {options.live.previousVersion}</span>}
          </>
        ) : (
          <span className="text-slate-500">No release deployed yet.</span>
        )}
      </p>
      {scheduled && scheduled.scheduledFor && (
        <div className="rounded-md border border-indigo-200 bg-white p-2 text-sm" data-testid="scheduled-deployment">
          <p className="flex items-center justify-between gap-2">
            <span>
              Deploys <span className="font-semibold">{releaseLabel(scheduled.release)}</span> <Countdown to={scheduled.scheduledFor.toISOString()} now={now} refreshWhenDue />
            </span>
            <DeploymentStatusBadge status={scheduled.status} />
          </p>
          <p className="mt-1 text-xs text-slate-700">
            <LocalTime iso={scheduled.scheduledFor.toISOString()} testId="scheduled-time" />
          </p>
          <p className="text-xs text-slate-500" data-testid="scheduled-by">
            Scheduled by {scheduled.requestedBy?.name ?? "a build pipeline"}
            {scheduled.reason && <>: {scheduled.reason}</>}
          </p>
          <WillNotStart blockers={options.scheduled?.blockers ?? []} className="mt-2 px-2 py-1 text-xs" />
          <div className="mt-2 flex items-center justify-between gap-2">
            <Link href={`/deployments/${scheduled.id}`} className="text-xs font-medium text-indigo-700 hover:underline">
              Details →
            </Link>
            {options.mayCancel && (
              <ActionForm
                action={cancel}
                inline
                variant="secondary"
                submitLabel="Cancel"
                pendingLabel="Cancelling…"
                confirm={`Cancel the deployment of ${releaseLabel(scheduled.release)} to ${env.name} scheduled for ${formatTime(scheduled.scheduledFor)}?`}
              >
                <input type="hidden" name="deploymentId" value={scheduled.id} />
              </ActionForm>
            )}
          </div>
        </div>
      )}
      {active && !scheduled && (
        <Link
          href={`/deployments/${active.id}`}
          className="block rounded-md border border-indigo-100 bg-indigo-50/50 p-2 hover:border-indigo-300"
          data-testid="active-deployment"
        >
          <span className="flex items-center justify-between gap-2 text-sm">
            <span>
              {active.kind === "REVERT" ? "Reverting to" : "Deploying"} <span className="font-medium">{releaseLabel(active.release)}</span>
            </span>
            <DeploymentStatusBadge status={active.status} paused={waitingToContinue(active)} />
          </span>
          <ProgressBar className="mt-2" value={active.progress.servers ? active.progress.updated / active.progress.servers : 0} tone={deploymentTone(active.status)} label="Servers updated" />
          <span className="mt-1 flex justify-between text-xs text-slate-600">
            <span>
              {active.status === "ROLLING_BACK" ? `${active.progress.rolledBack}/${active.progress.servers} servers rolled back` : `${active.progress.updated}/${active.progress.servers} servers`}
              {waitingToContinue(active) && active.pausedAfterSite && ` · paused after ${siteWords(active.pausedAfterSite)}`}
            </span>
            <span className="font-medium text-indigo-700">{waitingToContinue(active) ? "Continue or stop →" : "Watch →"}</span>
          </span>
        </Link>
      )}
      {options.freeze && (
        <p className="rounded-md border border-sky-200 bg-sky-50 px-2 py-1 text-xs text-sky-900" data-testid="freeze-banner">
          Frozen until <LocalTime iso={options.freeze.endsAt.toISOString()} />: {options.freeze.reason}
        </p>
      )}
      {options.mayDeploy && !active && (
        <details>
          <summary className="cursor-pointer text-sm font-medium text-indigo-700">Deploy to {env.name}</summary>
          <div className="mt-2 space-y-2">
            {selectable.length > 0 ? (
              <DeployForm
                action={deploy}
                environment={env}
                defaultReleaseId={selectable[0]?.releaseId}
                releases={options.releases.map((r) => ({
                  releaseId: r.releaseId,
                  label: `${r.version}${r.live ? " (live)" : ""}${r.needsMigration ? " · migration" : ""}${r.selectable ? (r.blockers.length ? " — frozen now" : "") : ` — ${SHORT[r.blockers[0]?.code ?? ""] ?? "blocked"}`}`,
                  disabled: !r.selectable,
                }))}
                freezeOverride={freezeOverride}
                scheduleHint={
                  options.nextFreeze && (
                    <p className="text-xs text-sky-900" data-testid="next-freeze">
                      Next freeze: <LocalTime iso={options.nextFreeze.startsAt.toISOString()} /> until <LocalTime iso={options.nextFreeze.endsAt.toISOString()} /> ({options.nextFreeze.reason}).
                    </p>
                  )
                }
                migration={Object.fromEntries(
                  selectable
                    .filter((r) => r.needsMigration)
                    .map((r) => [r.releaseId, { details: <MigrationPlan environment={env} version={r.version} instructions={r.migrationInstructions} />, confirm: migrationConfirm(env, r.version) }]),
                )}
              />
            ) : (
              <p className="text-sm text-slate-500">{options.releases.length === 0 ? "No releases uploaded yet." : "No release can be deployed here yet."}</p>
            )}
            {blocked.length > 0 && (
              <ul className="space-y-1 text-xs text-slate-600" aria-label={`Why some releases cannot go to ${env.name}`}>
                {blocked.slice(0, 5).map((r) => (
                  <li key={r.releaseId}>
                    <span className="font-medium text-slate-800">{r.version}:</span> {r.blockers.map((b) => b.message).join(" ")}
                  </li>
                ))}
                {blocked.length > 5 && <li className="text-slate-500">and {blocked.length - 5} more.</li>}
              </ul>
            )}
          </div>
        </details>
      )}
      {options.revert && scheduled?.scheduledFor && (
        // One deployment per environment: a revert would collide with the scheduled one, so say so instead of hiding it.
        <p className="text-xs text-slate-600" data-testid="revert-blocked">
          A deployment is scheduled for <LocalTime iso={scheduled.scheduledFor.toISOString()} />: cancel it first to revert to {options.revert.version}.
        </p>
      )}
      {options.revert && !active && (
        <details>
          <summary className="cursor-pointer text-sm font-medium text-rose-700">Revert to {options.revert.version}</summary>
          <div className="mt-2 space-y-2">
            {options.revert.earlierBuilds && (
              <div className="text-xs text-slate-600" data-testid="revert-earlier-builds">
                <p>
                  Before {options.revert.fromVersion}, these servers ran builds installed outside Releasegate. They are still on disk; a revert switches
                  each back to its own:
                </p>
                <ul className="mt-1 list-inside list-disc">
                  {options.revert.earlierBuilds.map((b) => (
                    <li key={b.server}>
                      <span className="font-medium">{b.server}</span>: <code className="font-mono">{b.path}</code>
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {options.revert.fromNeedsMigration && (
              <p className="rounded-md border border-amber-200 bg-amber-50 px-2 py-1 text-xs text-amber-900" data-testid="revert-migration-warning">
                {options.revert.fromVersion} migrated the database. A revert switches the servers back to {options.revert.version}; it does not undo the
                migration.
              </p>
            )}
            <ActionForm
              action={revert}
              variant="danger"
              submitLabel={options.revert.earlierBuilds ? "Revert to the earlier builds" : `Revert to ${options.revert.version}`}
              pendingLabel="Starting…"
              confirm={`Revert ${env.name} from ${options.revert.fromVersion ?? "its current release"} to ${options.revert.version}?`}
              className="space-y-2"
            >
              <input type="hidden" name="environmentId" value={env.id} />
              <Field name="reason" label="Why revert? (recorded)" maxLength={500} placeholder="Checkout fails since 1.4.0" />
            </ActionForm>
          </div>
        </details>
      )}
    </div>
  );
}

/** The hooks a migration needs that the environment lacks: without them the rollout silently skips that part. */
function missingMigrationHooks(hooks: MigrationHooks): ("backup" | "migrate")[] {
  return (["backup", "migrate"] as const).filter((h) => !hooks[h]?.trim());
}

function migrationConfirm(env: DeployPanelOptions["environment"], version: string): string | null {
  const missing = missingMigrationHooks(env.migrationHooks);
  return missing.length ? `${version} needs a database migration, but ${env.name} has no ${missing.join(" or ")} hook. Deploy it anyway?` : null;
}

/** A hook's command; a missing one is flagged, in red when the migration needs it (backup, migrate). */
function Hook({ command, needed = false }: { command: string | null; needed?: boolean }) {
  if (command?.trim()) return <code className="break-all rounded bg-white px-1 font-mono text-[11px] text-slate-800">{command}</code>;
  return needed ? <span className="font-medium text-rose-700">no hook set</span> : <span className="text-slate-500">none set (skipped)</span>;
}

/**
 * What deploying a migration release does here, in the order the agent runs it (agent/src/run-job.ts): the first
 * server of the rollout leaves the balancer, stops, runs maintenance-on, backup and migrate, switches and starts,
 * passes its health check, runs maintenance-off and goes back; the others then follow without migrating. The
 * developer's instructions are Markdown, rendered like release notes (raw HTML stays text).
 */
function MigrationPlan({ environment: env, version, instructions }: { environment: DeployPanelOptions["environment"]; version: string; instructions: string }) {
  const hooks = env.migrationHooks;
  const missing = missingMigrationHooks(hooks);
  const [first, ...rest] = env.servers;
  const settings = `/apps/${env.applicationId}/environments/${env.id}`;
  return (
    <div className="space-y-2 rounded-md border border-amber-200 bg-amber-50/60 p-2 text-xs text-slate-800" data-testid="migration-plan">
      <p className="font-medium text-amber-900">{version} needs a database migration.</p>
      {missing.length > 0 && (
        <p className="rounded border border-rose-300 bg-rose-50 px-2 py-1 text-rose-900" data-testid="migration-hooks-missing">
          <span className="font-semibold">{env.name} has no {missing.join(" and no ")} hook:</span>{" "}
          {missing.includes("migrate") ? "nothing will migrate the database" : "the migration runs without a backup"}
          {missing.length === 2 ? ", and no backup is taken first" : ""}.{" "}
          <Link href={settings} className="font-medium underline">
            Set it in the rollout settings
          </Link>
          .
        </p>
      )}
      <div data-testid="migration-instructions">
        <p className="font-medium">Instructions from the developer</p>
        {instructions.trim() ? (
          // Release notes' typography, one size down: this is a narrow column.
          <MarkdownText text={instructions} className="mt-1 space-y-1.5! text-xs! leading-5! [&_h1]:text-sm! [&_h2]:text-sm!" />
        ) : (
          <p className="text-slate-500">None were given with this release.</p>
        )}
      </div>
      <div>
        <p className="font-medium">What happens in {env.name}</p>
        <ol className="mt-1 list-decimal space-y-0.5 pl-4" data-testid="migration-steps">
          <li>{first ?? "The first server"} leaves the load balancer and stops.</li>
          <li>
            Maintenance page on: <Hook command={hooks.maintenanceOn} />
          </li>
          <li>
            Backup: <Hook command={hooks.backup} needed />
          </li>
          <li>
            Migrate: <Hook command={hooks.migrate} needed />
          </li>
          <li>
            {first ?? "It"} switches to {version}, starts and passes its health check; maintenance page off: <Hook command={hooks.maintenanceOff} />
          </li>
          {rest.length > 0 && <li>Then {rest.join(", ")}, without migrating again.</li>}
        </ol>
      </div>
    </div>
  );
}
