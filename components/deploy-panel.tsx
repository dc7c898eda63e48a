// The deploy and revert controls of one environment, with the reasons a release cannot go there yet (the same
// wording the server uses when it refuses), so nobody meets a dead button.
import Link from "next/link";
import type { ActionResult } from "@/lib/entry/action-result";
import { DeploymentStatusBadge, deploymentTone, ProgressBar } from "./deployment-status";
import { ActionForm, Field, SelectField } from "./form";

type Action = (fd: FormData) => Promise<ActionResult<{ redirectTo?: string } | undefined>>;

export interface DeployPanelOptions {
  environment: { id: string; name: string; isProduction: boolean };
  live: { version: string; previousVersion: string | null } | null;
  freeze: { reason: string; endsAt: Date } | null;
  mayDeploy: boolean;
  mayOverrideFreeze: boolean;
  releases: { releaseId: string; version: string; live: boolean; blockers: { code: string; message: string }[]; selectable: boolean }[];
  revert: { version: string; fromVersion: string | null } | null;
}

export interface ActiveDeployment {
  id: string;
  kind: string;
  status: string;
  release: { version: string };
  progress: { done: number; total: number; servers: number; updated: number; rolledBack: number };
}

const SHORT: Record<string, string> = {
  NOT_ALLOWED: "not allowed",
  WITHDRAWN: "withdrawn",
  REJECTED: "rejected",
  PREVIOUS_ENVIRONMENT: "earlier stage first",
  ACCEPTANCE: "awaiting acceptance",
  APPROVALS: "awaiting approval",
  FROZEN: "frozen",
};

export function DeployPanel({ options, active, deploy, revert }: { options: DeployPanelOptions; active: ActiveDeployment | null; deploy: Action; revert: Action }) {
  const env = options.environment;
  const selectable = options.releases.filter((r) => r.selectable);
  const blocked = options.releases.filter((r) => !r.selectable);
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
      {active && (
        <Link
          href={`/deployments/${active.id}`}
          className="block rounded-md border border-indigo-100 bg-indigo-50/50 p-2 hover:border-indigo-300"
          data-testid="active-deployment"
        >
          <span className="flex items-center justify-between gap-2 text-sm">
            <span>
              {active.kind === "REVERT" ? "Reverting to" : "Deploying"} <span className="font-medium">{active.release.version}</span>
            </span>
            <DeploymentStatusBadge status={active.status} />
          </span>
          <ProgressBar className="mt-2" value={active.progress.servers ? active.progress.updated / active.progress.servers : 0} tone={deploymentTone(active.status)} label="Servers updated" />
          <span className="mt-1 flex justify-between text-xs text-slate-600">
            <span>
              {active.status === "ROLLING_BACK" ? `${active.progress.rolledBack}/${active.progress.servers} servers rolled back` : `${active.progress.updated}/${active.progress.servers} servers`}
            </span>
            <span className="font-medium text-indigo-700">Watch →</span>
          </span>
        </Link>
      )}
      {options.freeze && (
        <p className="rounded-md border border-sky-200 bg-sky-50 px-2 py-1 text-xs text-sky-900">
          Frozen until {options.freeze.endsAt.toISOString().slice(0, 16).replace("T", " ")} UTC: {options.freeze.reason}
        </p>
      )}
      {options.mayDeploy && !active && (
        <details>
          <summary className="cursor-pointer text-sm font-medium text-indigo-700">Deploy to {env.name}</summary>
          <div className="mt-2 space-y-2">
            {selectable.length > 0 ? (
              <ActionForm action={deploy} submitLabel={`Deploy to ${env.name}`} pendingLabel="Starting…" className="space-y-2">
                <input type="hidden" name="environmentId" value={env.id} />
                <SelectField
                  name="releaseId"
                  label="Release"
                  defaultValue={selectable[0]?.releaseId}
                  options={options.releases.map((r) => ({
                    value: r.releaseId,
                    label: `${r.version}${r.live ? " (live)" : ""}${r.selectable ? "" : ` — ${SHORT[r.blockers[0]?.code ?? ""] ?? "blocked"}`}`,
                    disabled: !r.selectable,
                  }))}
                />
                <Field name="reason" label="Reason (optional)" placeholder="Fixes checkout rounding" />
                {env.isProduction && options.mayOverrideFreeze && (
                  <Field name="freezeOverrideReason" label="Freeze override reason" hint={options.freeze ? "Required to deploy during this freeze; it is recorded." : "Only needed during a change freeze."} />
                )}
              </ActionForm>
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
      {options.revert && !active && (
        <details>
          <summary className="cursor-pointer text-sm font-medium text-rose-700">Revert to {options.revert.version}</summary>
          <div className="mt-2">
            <ActionForm
              action={revert}
              variant="danger"
              submitLabel={`Revert to ${options.revert.version}`}
              pendingLabel="Starting…"
              confirm={`Revert ${env.name} from ${options.revert.fromVersion ?? "its current release"} to ${options.revert.version}?`}
              className="space-y-2"
            >
              <input type="hidden" name="environmentId" value={env.id} />
              <Field name="reason" label="Why revert? (recorded)" placeholder="Checkout fails since 1.4.0" />
            </ActionForm>
          </div>
        </details>
      )}
    </div>
  );
}
