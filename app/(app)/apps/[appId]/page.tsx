import type { Metadata } from "next";
import Link from "next/link";
import { DeployPanel } from "@/components/deploy-panel";
import { Badge, Card, PageHeader, plural, ROLE_LABELS } from "@/components/ui";
import { getApplication } from "@/lib/applications/get-application";
import { can } from "@/lib/auth/permissions";
import { ServerList } from "@/components/server-list";
import { WorkItemList } from "@/components/work-item-list";
import { listWorkItems } from "@/lib/home/list-work-items";
import { deployOptions } from "@/lib/deployments/deploy-options";
import { listDeployments } from "@/lib/deployments/list-deployments";
import { loadForPage, pageIds, requirePageActor } from "@/lib/entry/page";
import { hasDrift, targetHealth, whatRuns } from "@/lib/targets/target-health";
import { cancelDeploymentAction } from "../../deployments/[deploymentId]/actions";
import { addTargetAction, reissueEnrollmentAction, requestDeploymentAction, requestRevertAction, revokeAgentAction } from "./actions";

export const metadata: Metadata = { title: "Application" };

export default async function ApplicationPage({ params }: { params: Promise<{ appId: string }> }) {
  const { appId } = await pageIds(params);
  const actor = await requirePageActor();
  const app = await loadForPage(() => getApplication(actor, appId));
  const [options, active, work] = await Promise.all([
    Promise.all(app.environments.map((e) => deployOptions(actor, { environmentId: e.id, limit: 10 }))),
    listDeployments(actor, { applicationId: app.id, activeOnly: true }),
    listWorkItems(actor),
  ]);
  // Every work item links into its application: those of this one are what this page asks of the viewer.
  const waiting = work.filter((w) => w.href.startsWith(`/apps/${app.id}/`));
  const now = new Date();
  const manage = can(actor, "target.manage", app.id) ? { add: addTargetAction, reissue: reissueEnrollmentAction, revoke: revokeAgentAction } : undefined;
  return (
    <>
      <PageHeader
        title={app.name}
        subtitle={
          <>
            {app.customer.name}
            {app.description && <> · {app.description}</>}
          </>
        }
        actions={
          <nav className="flex flex-wrap items-center gap-x-4 gap-y-2 text-sm font-medium" aria-label="Application">
            {can(actor, "release.create", app.id) && (
              <Link href={`/apps/${app.id}/releases/new`} className="rounded-md bg-indigo-600 px-3 py-1.5 text-white shadow-sm hover:bg-indigo-500">
                Upload a release
              </Link>
            )}
            <Link href={`/apps/${app.id}/releases`} className="text-indigo-700 hover:underline">
              Releases
            </Link>
            <Link href={`/apps/${app.id}/freezes`} className="text-indigo-700 hover:underline">
              Freezes
            </Link>
            {can(actor, "webhook.manage", app.id) && (
              <Link href={`/apps/${app.id}/webhooks`} className="text-indigo-700 hover:underline">
                Webhooks
              </Link>
            )}
            {(can(actor, "environment.manage", app.id) || can(actor, "api-token.manage", app.id)) && (
              <Link href={`/apps/${app.id}/settings`} className="text-indigo-700 hover:underline">
                {can(actor, "environment.manage", app.id) ? "Environments, people & tokens" : "API tokens"} →
              </Link>
            )}
          </nav>
        }
      />
      {waiting.length > 0 && (
        <Card title="Waiting on you" className="mb-6">
          <WorkItemList items={waiting} />
        </Card>
      )}
      <h2 className="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-500">Lifecycle</h2>
      <ol className="mb-8 grid gap-4 md:grid-cols-3" data-testid="environments">
        {app.environments.map((e, i) => (
          <li key={e.id} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <div className="flex items-center justify-between gap-2">
              <h3 className="font-medium">
                <Link href={`/apps/${app.id}/environments/${e.id}`} className="hover:text-indigo-700 hover:underline">
                  {i + 1}. {e.name}
                </Link>
              </h3>
              {e.isProduction && <Badge tone="amber">Production</Badge>}
            </div>
            <ul className="mt-2 space-y-0.5 text-xs text-slate-600">
              <li>{e.requiresPreviousSuccess && i > 0 ? `After a successful deploy to ${app.environments[i - 1]?.name}` : "Any uploaded release"}</li>
              {e.requiresAcceptance && <li>Needs a customer's acceptance</li>}
              {e.requiredApprovals > 0 && <li>Needs {plural(e.requiredApprovals, "approval")}</li>}
              <li>Deployed by: {e.deployerRoles.map((r) => ROLE_LABELS[r]).join(", ")}</li>
              <li>
                {plural(e._count.targets, "server")} · {e.strategy === "ROLLING" ? `rolling, ${e.batchSize} at a time` : "all at once"}
              </li>
            </ul>
            <DeployPanel
              options={options[i]!}
              active={active.find((d) => d.environment.id === e.id) ?? null}
              deploy={requestDeploymentAction}
              revert={requestRevertAction}
              cancel={cancelDeploymentAction}
            />
            <ServerList
              environmentId={e.id}
              environmentName={e.name}
              manage={manage}
              servers={e.targets.map((t) => ({
                id: t.id,
                name: t.name,
                health: targetHealth(t, now),
                drift: t.status === "ACTIVE" && hasDrift(t.liveReleaseId, e.expectedReleaseId),
                runs: whatRuns(t).text,
                outside: whatRuns(t).outside,
                agent: t.agentVersion ? `${t.agentVersion} on ${t.agentHostname ?? "?"}` : null,
                lastSeen: t.lastSeenAt ? `${t.lastSeenAt.toISOString().slice(11, 19)} UTC` : null,
              }))}
            />
            <Link href={`/apps/${app.id}/environments/${e.id}`} className="mt-3 inline-block text-xs font-medium text-indigo-700 hover:underline">
              {manage ? "Servers, rollout settings & history →" : "Servers & deployment history →"}
            </Link>
          </li>
        ))}
      </ol>
      <Card title="People">
        {app.memberships.length === 0 ? (
          <p className="text-sm text-slate-500">Nobody has a role on this application yet.</p>
        ) : (
          <ul className="grid gap-2 text-sm sm:grid-cols-2">
            {app.memberships.map((m) => (
              <li key={m.id} className="flex items-center gap-2">
                <Badge tone="blue">{ROLE_LABELS[m.role]}</Badge>
                <span>{m.user.name}</span>
                <span className="text-slate-500">{m.user.email}</span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
