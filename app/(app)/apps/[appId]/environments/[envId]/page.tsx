import type { Metadata } from "next";
import Link from "next/link";
import { FreezeForm, FreezeList } from "@/components/freeze-form";
import { DeploymentStatusBadge, formatDuration, formatTime, KIND_LABELS } from "@/components/deployment-status";
import { BalancerPanel } from "@/components/balancer-panel";
import { PeriodicRefresh } from "@/components/periodic-refresh";
import { RolloutSettingsForm } from "@/components/rollout-settings-form";
import { ServerList } from "@/components/server-list";
import { SitePanel } from "@/components/site-panel";
import { Badge, Card, EmptyState, PageHeader, plural } from "@/components/ui";
import { freezeRows, listFreezes } from "@/lib/approvals/list-freezes";
import { can } from "@/lib/auth/permissions";
import { listDeployments } from "@/lib/deployments/list-deployments";
import { getEnvironmentSites } from "@/lib/sites/get-environment-sites";
import { getEnvironment } from "@/lib/environments/get-environment";
import { loadForPage, pageIds, requirePageActor } from "@/lib/entry/page";
import { hasDrift, targetHealth, whatRuns } from "@/lib/targets/target-health";
import { addTargetAction, reissueEnrollmentAction, revokeAgentAction } from "../../actions";
import { createFreezeAction, endFreezeAction } from "../../freezes/actions";
import { addBalancerMemberAction, createBalancerAction, deleteBalancerAction, removeBalancerMemberAction, updateBalancerAction, updateRolloutSettingsAction } from "./actions";
import { listEnvironmentBalancers } from "@/lib/balancers/list-environment-balancers";
import { assignTargetSiteAction, createSiteAction, deleteSiteAction, moveSiteAction, renameSiteAction, updateSiteSettingsAction } from "./site-actions";
import { releaseLabel } from "@/lib/deployments/release-label";

export const metadata: Metadata = { title: "Environment" };

export default async function EnvironmentPage({ params }: { params: Promise<{ appId: string; envId: string }> }) {
  const { appId, envId } = await pageIds(params);
  const actor = await requirePageActor();
  const [env, history, freezes, sites] = await loadForPage(
    () =>
      Promise.all([
        getEnvironment(actor, { applicationId: appId, environmentId: envId }),
        listDeployments(actor, { applicationId: appId, environmentId: envId, limit: 50 }),
        listFreezes(actor, appId, { environmentId: envId }),
        getEnvironmentSites(actor, { applicationId: appId, environmentId: envId }),
      ]),
    "an environment",
  );
  // After getEnvironment: the environment is known to be this application's.
  const balancers = await listEnvironmentBalancers(actor, appId, envId);
  const manageFreezes = can(actor, "freeze.manage", appId);
  const now = new Date();
  const manage = env.manages ? { add: addTargetAction, reissue: reissueEnrollmentAction, revoke: revokeAgentAction } : undefined;
  const balancer = (t: (typeof env.targets)[number]) =>
    t.balancers.length === 0 ? "no load balancer" : `behind ${t.balancers.map((m) => (m.balancer.kind === "HAPROXY" ? `${m.balancer.name} (${m.backend}/${m.server})` : m.balancer.name)).join(", ")}`;
  const readsBalancers = balancers.some((b) => b.kind === "HAPROXY" && b.members.length > 0);
  return (
    <>
      <PageHeader
        title={`${env.application.name} / ${env.name}`}
        subtitle={
          <>
            <Link href={`/apps/${env.application.id}`} className="text-indigo-700 hover:underline">
              ← back to {env.application.name}
            </Link>
            {" · "}
            {env.expectedRelease ? (
              <>
                runs <span className="font-medium text-slate-800">{env.expectedRelease.version}</span>
              </>
            ) : env.targets.some((t) => t.status === "ACTIVE" && whatRuns(t).outside) ? (
              "runs builds installed outside Releasegate (see its servers)"
            ) : (
              "no release deployed yet"
            )}
            {env.url && (
              <>
                {" · "}
                <a href={env.url} className="text-indigo-700 hover:underline" rel="noreferrer">
                  {env.url}
                </a>
              </>
            )}
          </>
        }
        actions={env.isProduction ? <Badge tone="amber">Production</Badge> : undefined}
      />
      <div className="grid items-start gap-6 lg:grid-cols-5">
        <div className="space-y-6 lg:col-span-2">
          <Card title="Servers">
            <ServerList
              className=""
              environmentId={env.id}
              environmentName={env.name}
              manage={manage}
              servers={env.targets.map((t) => ({
                id: t.id,
                name: t.name,
                health: targetHealth(t, now),
                drift: t.status === "ACTIVE" && hasDrift(t.liveReleaseId, env.expectedRelease?.id ?? null),
                runs: whatRuns(t).text,
                outside: whatRuns(t).outside,
                agent: t.agentVersion ? `${t.agentVersion} on ${t.agentHostname ?? "?"}` : null,
                lastSeen: t.lastSeenAt ? `${t.lastSeenAt.toISOString().slice(11, 19)} UTC` : null,
                balancer: balancer(t),
              }))}
            />
          </Card>
          <Card title="Sites">
            <SitePanel
              data={sites}
              actions={{ create: createSiteAction, rename: renameSiteAction, move: moveSiteAction, remove: deleteSiteAction, assign: assignTargetSiteAction, settings: updateSiteSettingsAction }}
            />
          </Card>
        </div>
        <div className="space-y-6 lg:col-span-3">
          <Card title="Freezes">
            <FreezeList environmentName={env.name} freezes={freezeRows(freezes[0]?.freezes ?? [])} end={manageFreezes ? endFreezeAction : undefined} />
            {manageFreezes && (
              <details className="mt-3 border-t border-slate-100 pt-3">
                <summary className="cursor-pointer text-sm font-medium text-indigo-700">Freeze {env.name}…</summary>
                <div className="mt-3">
                  <FreezeForm environmentId={env.id} environmentName={env.name} create={createFreezeAction} />
                </div>
              </details>
            )}
          </Card>
          <Card title="Rollout settings">
            {env.manages ? (
              <RolloutSettingsForm action={updateRolloutSettingsAction} environmentId={env.id} settings={env} />
            ) : (
              <dl className="grid gap-x-6 gap-y-2 text-sm sm:grid-cols-2">
                <SettingRow label="Strategy">{env.strategy === "ROLLING" ? `rolling, ${plural(env.batchSize, "server")} at a time` : "all at once"}</SettingRow>
                <SettingRow label="Automatic rollback">{env.autoRollback ? "on" : "off"}</SettingRow>
                <SettingRow label="Health check">
                  {env.healthCheckUrl ? `${env.healthCheckUrl}${env.healthCheckFailAfter5xx > 0 ? `; fails after ${plural(env.healthCheckFailAfter5xx, "5xx answer")} in a row` : ""}` : "none"}
                </SettingRow>
                <SettingRow label="Hooks">{env.configuredHooks.length ? env.configuredHooks.join(", ") : "none"}</SettingRow>
                <SettingRow label="Releases kept per server">{env.keepReleases}</SettingRow>
                <SettingRow label="Persistent paths">{env.persistentPaths.length ? env.persistentPaths.join(", ") : "none"}</SettingRow>
                <SettingRow label="Post-deploy analysis">
                  {env.bakeSeconds > 0
                    ? `watches each server ${env.bakeSeconds} s once it serves again; fails above ${env.bakeMax5xxPercent}% 5xx` +
                      (env.bakeMaxResponseMs !== null ? `, ${env.bakeMaxResponseMs} ms average response time` : "") +
                      (env.bakeMaxResponseRatio !== null ? `, ${env.bakeMaxResponseRatio} times the previous build's response time` : "")
                    : "off"}
                </SettingRow>
              </dl>
            )}
          </Card>
        </div>
      </div>

      <div className="mt-6">
        <Card title="Load balancers" actions={readsBalancers ? <PeriodicRefresh seconds={5} label="Live: each server's agent reads its balancers every 10 s" /> : undefined}>
          <BalancerPanel
            environmentId={env.id}
            balancers={balancers}
            now={now}
            manage={
              env.manages
                ? {
                    create: createBalancerAction,
                    update: updateBalancerAction,
                    remove: deleteBalancerAction,
                    addMember: addBalancerMemberAction,
                    removeMember: removeBalancerMemberAction,
                    servers: env.targets.filter((t) => t.status !== "REVOKED").map((t) => ({ id: t.id, name: t.name })),
                  }
                : undefined
            }
          />
        </Card>
      </div>

      <h2 className="mb-3 mt-8 text-sm font-semibold uppercase tracking-wide text-slate-500">Deployment history</h2>
      {history.length === 0 ? (
        <EmptyState title={`Nothing has been deployed to ${env.name} yet.`}>Deployments and reverts appear here, newest first.</EmptyState>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="deployment-history">
            <thead className="bg-slate-50 text-left text-xs font-medium uppercase tracking-wide text-slate-500">
              <tr>
                <th className="px-4 py-2">Version</th>
                <th className="px-4 py-2">Kind</th>
                <th className="px-4 py-2">Status</th>
                <th className="px-4 py-2">Requested by</th>
                <th className="px-4 py-2">Started</th>
                <th className="px-4 py-2">Duration</th>
                <th className="px-4 py-2">Failure reason</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {history.map((d) => (
                <tr key={d.id} className="align-top">
                  <td className="px-4 py-2">
                    <Link href={`/deployments/${d.id}`} className="font-medium text-indigo-700 hover:underline">
                      {releaseLabel(d.release)}
                    </Link>
                  </td>
                  <td className="px-4 py-2">{KIND_LABELS[d.kind]}</td>
                  <td className="px-4 py-2">
                    <DeploymentStatusBadge status={d.status} />
                  </td>
                  <td className="px-4 py-2">
                    {d.requestedBy?.name ?? "a build pipeline"}
                    {d.reason && <p className="text-xs text-slate-500">{d.reason}</p>}
                  </td>
                  <td className="whitespace-nowrap px-4 py-2 text-slate-600">{d.startedAt ? formatTime(d.startedAt) : d.status === "SCHEDULED" ? `at ${formatTime(d.scheduledFor)}` : "—"}</td>
                  <td className="whitespace-nowrap px-4 py-2 tabular-nums text-slate-600">
                    {d.startedAt ? formatDuration((d.finishedAt ?? now).getTime() - d.startedAt.getTime()) + (d.finishedAt ? "" : " so far") : "—"}
                  </td>
                  <td className="max-w-sm px-4 py-2 text-rose-800">{d.failureReason ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function SettingRow({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-0.5 break-all text-slate-800">{children}</dd>
    </div>
  );
}
