import { ActionForm, CheckboxField, Field, SelectField, type ShownOnce } from "./form";
import { Badge, Card, ROLE_LABELS } from "./ui";
import type { ActionResult } from "@/lib/entry/action-result";

type Action = (fd: FormData) => Promise<ActionResult<{ shownOnce?: ShownOnce } | undefined>>;

export interface ApiTokenRow {
  id: string;
  name: string;
  prefix: string;
  roles: string[];
  createdBy: string;
  created: string;
  lastUsed: string | null;
  expires: string | null;
  state: "active" | "expired" | "revoked";
}

const STATE: Record<ApiTokenRow["state"], { label: string; tone: "green" | "gray" | "amber" }> = {
  active: { label: "active", tone: "green" },
  expired: { label: "expired", tone: "amber" },
  revoked: { label: "revoked", tone: "gray" },
};

const EXPIRY_CHOICES = [
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In a year" },
  { value: "", label: "Never" },
];

/**
 * An application's API tokens for build pipelines: who made each, what it may do, when it was last used; revoke;
 * and a form that creates one and shows its secret once, with the commands a pipeline runs.
 */
export function ApiTokenList({
  applicationId,
  baseUrl,
  tokens,
  roleChoices,
  create,
  revoke,
}: {
  applicationId: string;
  /** The control plane's public URL, for the example commands. */
  baseUrl: string;
  tokens: ApiTokenRow[];
  /** The roles this person may put on a token (those they hold). */
  roleChoices: string[];
  create: Action;
  revoke: Action;
}) {
  return (
    <div className="grid items-start gap-6 lg:grid-cols-3">
      <Card title="API tokens" className="lg:col-span-2">
        {tokens.length === 0 ? (
          <p className="text-sm text-slate-500">No tokens yet. Create one for each pipeline that uploads or deploys releases.</p>
        ) : (
            <div className="overflow-x-auto">
              <table className="w-full text-left text-sm" data-testid="api-tokens">
                <thead className="text-xs uppercase tracking-wide text-slate-500">
                  <tr>
                    <th className="py-2 pr-3 font-medium">Name</th>
                    <th className="py-2 pr-3 font-medium">Roles</th>
                    <th className="py-2 pr-3 font-medium">Created by</th>
                    <th className="py-2 pr-3 font-medium">Last used</th>
                    <th className="py-2 pr-3 font-medium">Expires</th>
                    <th className="py-2 font-medium">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {tokens.map((t) => (
                    <tr key={t.id} data-testid={`api-token-${t.name}`} className={t.state === "active" ? "" : "text-slate-400"}>
                      <td className="py-2 pr-3 align-top">
                        <div className="flex items-center gap-2">
                          <span className="font-medium">{t.name}</span>
                          <Badge tone={STATE[t.state].tone}>{STATE[t.state].label}</Badge>
                        </div>
                        <code className="text-xs text-slate-500">{t.prefix}…</code>
                      </td>
                      <td className="py-2 pr-3 align-top">{t.roles.map((r) => ROLE_LABELS[r] ?? r).join(", ")}</td>
                      <td className="py-2 pr-3 align-top">
                        {t.createdBy}
                        <div className="text-xs text-slate-500">{t.created}</div>
                      </td>
                      <td className="py-2 pr-3 align-top">{t.lastUsed ?? "never"}</td>
                      <td className="py-2 pr-3 align-top">{t.expires ?? "never"}</td>
                      <td className="py-2 text-right align-top">
                        {t.state === "active" && (
                          <ActionForm action={revoke} inline variant="danger" submitLabel="Revoke" confirm={`Revoke the token ${t.name}? Pipelines using it are refused from their next call.`}>
                            <input type="hidden" name="tokenId" value={t.id} />
                          </ActionForm>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
        )}
        <details className="mt-4 text-sm">
          <summary className="cursor-pointer font-medium text-indigo-700">How a pipeline uses a token</summary>
          <p className="mt-2 text-slate-600">
            Keep the token in your CI&apos;s secrets as <code>RELEASEGATE_TOKEN</code>. Upload a build, list releases, deploy to an environment:
          </p>
          <pre className="mt-2 overflow-x-auto rounded-md bg-slate-900 p-3 text-xs leading-relaxed text-slate-100" data-testid="api-token-usage">
            {usage(baseUrl, applicationId)}
          </pre>
          <p className="mt-2 text-xs text-slate-500">Every call is recorded in the audit log under the token&apos;s name; uploads count as its creator&apos;s.</p>
        </details>
      </Card>
      <Card title="New API token">
        {roleChoices.length === 0 ? (
          <p className="text-sm text-slate-600" data-testid="api-token-no-roles">
            A token carries only roles you hold on this application, and you hold none a token can carry (Developer, Ops or
            Auditor). Whoever runs the pipeline creates its token; an administrator who does grants themselves the role first,
            under People.
          </p>
        ) : (
          <ActionForm action={create} submitLabel="Create token">
            <input type="hidden" name="applicationId" value={applicationId} />
            <Field name="name" label="Token name" placeholder="github-actions" hint="Name it after the pipeline that uses it." />
            <fieldset>
              <legend className="text-sm font-medium text-slate-700">What it may do</legend>
              <div className="mt-1 flex flex-wrap gap-4">
                {roleChoices.map((r) => (
                  <CheckboxField key={r} name="roles" value={r} label={ROLE_LABELS[r] ?? r} defaultChecked={r === "DEVELOPER" || roleChoices.length === 1} />
                ))}
              </div>
              <p className="mt-1 text-xs text-slate-500">At most the roles you hold here; it stops working if you lose them.</p>
            </fieldset>
            <SelectField name="expiresInDays" label="Expires" options={EXPIRY_CHOICES} defaultValue="90" />
          </ActionForm>
        )}
      </Card>
    </div>
  );
}

function usage(baseUrl: string, applicationId: string): string {
  const api = `${baseUrl}/api/v1/applications/${applicationId}`;
  return [
    `curl -fsS -H "Authorization: Bearer $RELEASEGATE_TOKEN" \\`,
    `  -F version=1.4.0 -F sha256=$(sha256sum build.tar.gz | cut -d' ' -f1) \\`,
    `  -F artifact=@build.tar.gz ${api}/releases`,
    ``,
    `curl -fsS -H "Authorization: Bearer $RELEASEGATE_TOKEN" ${api}/releases`,
    ``,
    `curl -fsS -H "Authorization: Bearer $RELEASEGATE_TOKEN" -H 'content-type: application/json' \\`,
    `  -d '{"environment":"qa","release":"1.4.0"}' ${api}/deployments`,
  ].join("\n");
}
