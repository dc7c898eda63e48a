import type { Metadata } from "next";
import Link from "next/link";
import { ApiTokenList } from "@/components/api-token-list";
import { ActionForm, CheckboxField, Field, SelectField } from "@/components/form";
import { Badge, Card, PageHeader, ROLE_LABELS } from "@/components/ui";
import { listApiTokens } from "@/lib/api-tokens/list-api-tokens";
import { TOKEN_ROLES } from "@/lib/api-tokens/token";
import { getApplication } from "@/lib/applications/get-application";
import { can } from "@/lib/auth/permissions";
import { loadForPage, pageIds, requirePageActor } from "@/lib/entry/page";
import { env } from "@/lib/env";
import { forbidden } from "@/lib/errors";
import { listUsers } from "@/lib/users/list-users";
import {
  createApiTokenAction,
  createEnvironmentAction,
  deleteEnvironmentAction,
  grantRoleAction,
  reorderEnvironmentsAction,
  revokeApiTokenAction,
  revokeRoleAction,
  updateEnvironmentAction,
} from "./actions";

export const metadata: Metadata = { title: "Application settings" };

const ROLES = Object.keys(ROLE_LABELS);

export default async function ApplicationSettingsPage({ params }: { params: Promise<{ appId: string }> }) {
  const { appId } = await pageIds(params);
  const actor = await requirePageActor();
  // Administrators shape environments and people; developers and ops manage their pipelines' API tokens. Each
  // sees the sections they may use; someone who may use neither gets the 404 (and the denial is audited).
  const [app, users, tokens] = await loadForPage(async () => {
    const a = await getApplication(actor, appId);
    const manageEnvironments = can(actor, "environment.manage", a.id);
    const manageTokens = can(actor, "api-token.manage", a.id);
    if (!manageEnvironments && !manageTokens) throw forbidden(undefined, { applicationId: a.id });
    return [a, manageEnvironments ? await listUsers(actor) : null, manageTokens ? await listApiTokens(actor, a.id) : null] as const;
  }, "an application's settings");
  const eligible = (users ?? []).filter((u) => u.status === "ACTIVE" && (u.customer === null || u.customer.id === app.customer.id));
  const held = actor.roles.get(app.id);
  // Only roles the person holds here, administrators included (lib/api-tokens/create-api-token.ts says why).
  const roleChoices = TOKEN_ROLES.filter((r) => held?.has(r));
  return (
    <>
      <PageHeader
        title={users ? `${app.name}: environments & people` : `${app.name}: API tokens`}
        subtitle={
          <Link href={`/apps/${app.id}`} className="text-indigo-700 hover:underline">
            ← back to {app.name}
          </Link>
        }
      />
      {users && (
        <>
          {/* Above the grid, so the first environment and the People card start at the same height. */}
          <h2 className="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-500">Environments, in lifecycle order</h2>
          <div className="grid items-start gap-6 lg:grid-cols-3">
            <div className="space-y-4 lg:col-span-2">
              {app.environments.map((e, i) => (
                <Card
                  key={e.id}
                  title={`${i + 1}. ${e.name}`}
                  actions={
                    <div className="flex items-center gap-2">
                      {i > 0 && (
                        <ActionForm action={reorderEnvironmentsAction} inline variant="secondary" submitLabel="↑ Earlier">
                          <input type="hidden" name="applicationId" value={app.id} />
                          <input type="hidden" name="environmentId" value={e.id} />
                          <input type="hidden" name="direction" value="up" />
                        </ActionForm>
                      )}
                      {i < app.environments.length - 1 && (
                        <ActionForm action={reorderEnvironmentsAction} inline variant="secondary" submitLabel="↓ Later">
                          <input type="hidden" name="applicationId" value={app.id} />
                          <input type="hidden" name="environmentId" value={e.id} />
                          <input type="hidden" name="direction" value="down" />
                        </ActionForm>
                      )}
                      <ActionForm action={deleteEnvironmentAction} inline variant="danger" submitLabel="Remove" confirm={`Remove ${e.name}?`}>
                        <input type="hidden" name="environmentId" value={e.id} />
                      </ActionForm>
                    </div>
                  }
                >
                  <ActionForm action={updateEnvironmentAction} submitLabel="Save" resetOnSuccess={false}>
                    <input type="hidden" name="environmentId" value={e.id} />
                    <div className="grid gap-4 sm:grid-cols-2">
                      <Field name="name" label="Name" defaultValue={e.name} />
                      <Field name="url" label="URL people open" type="url" defaultValue={e.url ?? ""} placeholder="https://acc.example.com" />
                      <SelectField
                        name="strategy"
                        label="Rollout"
                        defaultValue={e.strategy}
                        options={[
                          { value: "ROLLING", label: "Rolling (drain a batch at a time)" },
                          { value: "ALL_AT_ONCE", label: "All at once (test environments)" },
                        ]}
                      />
                      <Field name="batchSize" label="Nodes per batch" type="number" defaultValue={e.batchSize} />
                      <Field name="requiredApprovals" label="Approvals required" type="number" defaultValue={e.requiredApprovals} />
                    </div>
                    <div className="grid gap-2 sm:grid-cols-2">
                      <CheckboxField name="isProduction" label="Production" defaultChecked={e.isProduction} />
                      <CheckboxField name="requiresPreviousSuccess" label="Must succeed in the previous environment first" defaultChecked={e.requiresPreviousSuccess} />
                      <CheckboxField name="requiresAcceptance" label="Needs a customer's acceptance" defaultChecked={e.requiresAcceptance} />
                    </div>
                    <fieldset>
                      <legend className="text-sm font-medium text-slate-700">Who may deploy here</legend>
                      <div className="mt-1 flex flex-wrap gap-4">
                        {ROLES.map((r) => (
                          <CheckboxField key={r} name="deployerRoles" value={r} label={ROLE_LABELS[r]!} defaultChecked={e.deployerRoles.includes(r as never)} />
                        ))}
                      </div>
                    </fieldset>
                    <fieldset>
                      <legend className="text-sm font-medium text-slate-700">Who may approve</legend>
                      <div className="mt-1 flex flex-wrap gap-4">
                        {ROLES.map((r) => (
                          <CheckboxField key={r} name="approverRoles" value={r} label={ROLE_LABELS[r]!} defaultChecked={e.approverRoles.includes(r as never)} />
                        ))}
                      </div>
                    </fieldset>
                  </ActionForm>
                </Card>
              ))}
              <Card title="Add an environment">
                <ActionForm action={createEnvironmentAction} submitLabel="Add environment">
                  <input type="hidden" name="applicationId" value={app.id} />
                  <Field name="name" label="Name" placeholder="Staging" />
                </ActionForm>
              </Card>
            </div>
            <div className="space-y-6">
              <Card title="People">
                {app.memberships.length === 0 && <p className="mb-3 text-sm text-slate-500">Nobody has a role yet.</p>}
                <ul className="mb-4 space-y-2 text-sm" data-testid="members">
                  {app.memberships.map((m) => (
                    <li key={m.id} className="flex items-center justify-between gap-2">
                      <span>
                        <Badge tone="blue">{ROLE_LABELS[m.role]}</Badge> {m.user.name}
                      </span>
                      <ActionForm action={revokeRoleAction} inline variant="secondary" submitLabel="Remove" confirm={`Remove ${m.user.name}'s ${ROLE_LABELS[m.role]} role?`}>
                        <input type="hidden" name="membershipId" value={m.id} />
                      </ActionForm>
                    </li>
                  ))}
                </ul>
                <ActionForm action={grantRoleAction} submitLabel="Grant role">
                  <input type="hidden" name="applicationId" value={app.id} />
                  <SelectField
                    name="userId"
                    label="Person"
                    options={[{ value: "", label: "Choose…" }, ...eligible.map((u) => ({ value: u.id, label: `${u.name} (${u.email})` }))]}
                    hint={`Our staff and ${app.customer.name}'s own people.`}
                  />
                  <SelectField name="role" label="Role" options={ROLES.map((r) => ({ value: r, label: ROLE_LABELS[r]! }))} />
                </ActionForm>
              </Card>
            </div>
          </div>
        </>
      )}
      {tokens && (
        <section className={users ? "mt-10" : ""} aria-labelledby="api-tokens-heading">
          <h2 id="api-tokens-heading" className="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-500">
            API tokens for build pipelines
          </h2>
          <ApiTokenList
            applicationId={app.id}
            baseUrl={env().NEXTAUTH_URL ?? "http://localhost:3000"}
            roleChoices={roleChoices}
            create={createApiTokenAction}
            revoke={revokeApiTokenAction}
            tokens={tokens.map((t) => ({
              id: t.id,
              name: t.name,
              prefix: t.prefix,
              roles: t.roles,
              createdBy: t.createdBy.name,
              created: utc(t.createdAt),
              lastUsed: t.lastUsedAt ? utc(t.lastUsedAt) : null,
              expires: t.revokedAt ? `revoked ${utc(t.revokedAt)}` : t.expiresAt ? utc(t.expiresAt) : null,
              state: t.state,
            }))}
          />
        </section>
      )}
    </>
  );
}

/** "2026-11-22 05:41 UTC": one unambiguous format for people in different time zones. */
const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
