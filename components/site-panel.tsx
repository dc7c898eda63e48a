import type { ActionResult } from "@/lib/entry/action-result";
import { ActionForm, CheckboxField, Field, SelectField } from "./form";
import { Badge, plural } from "./ui";

type Action = (fd: FormData) => Promise<ActionResult<undefined>>;

export interface SitePanelServer {
  id: string;
  name: string;
  status: string;
}

export interface SitePanelData {
  id: string;
  name: string;
  settings: { siteOrder: "CHOSEN" | "SMALLEST_FIRST"; siteFloor: number; pauseAfterFirstSite: boolean };
  sites: { id: string; name: string; servers: SitePanelServer[] }[];
  withoutSite: SitePanelServer[];
  servers: (SitePanelServer & { siteId: string | null })[];
  /** Site names in the order the next rollout would walk them (empty without sites). */
  nextOrder: string[];
  /** Why a deployment here would be refused by the floor, or null. */
  floorProblem: string | null;
  rolloutRunning: string | null;
  manages: boolean;
}

export interface SiteActions {
  create: Action;
  rename: Action;
  move: Action;
  remove: Action;
  assign: Action;
  settings: Action;
}

/** What the settings mean for a rollout, in a sentence or two (for everyone, not just ops). */
export function describeSiteSettings(s: SitePanelData["settings"]): string {
  const order = s.siteOrder === "SMALLEST_FIRST" ? "the smallest site first, as a canary" : "in the order below";
  const floor = s.siteFloor > 0 ? `at least ${plural(s.siteFloor, "server")} of each site ${s.siteFloor === 1 ? "keeps" : "keep"} serving` : "no floor beyond never taking every server out";
  return `Rollouts go site by site, ${order}; ${floor}${s.pauseAfterFirstSite ? "; each deployment pauses after its first site until someone continues it" : ""}.`;
}

/**
 * An environment's sites (data centres) with their servers, the order rollouts take through them and the floor of
 * serving servers per site; ops add, rename, reorder and remove sites, put servers in them, and set how rollouts
 * cross them. Servers without a site are one site of their own to a rollout.
 */
export function SitePanel({ data, actions }: { data: SitePanelData; actions?: SiteActions }) {
  const manage = data.manages ? actions : undefined;
  const noSites = data.sites.length === 0;
  return (
    <div className="space-y-4 text-sm" data-testid="sites">
      <p className="text-slate-600" data-testid="site-summary">
        {noSites
          ? `No sites: the servers roll out as one site${data.settings.siteFloor > 0 ? `, at least ${plural(data.settings.siteFloor, "server")} of it serving throughout` : ""}. Add a site for each data centre to roll out one data centre at a time.`
          : describeSiteSettings(data.settings)}
      </p>
      {data.nextOrder.length > 1 && (
        <p className="text-slate-600" data-testid="site-order">
          Next rollout: <span className="font-medium text-slate-800">{data.nextOrder.join(" → ")}</span>
        </p>
      )}
      {data.floorProblem && (
        <p role="note" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-amber-900" data-testid="site-floor-problem">
          Deployments to {data.name} are refused until this changes: {data.floorProblem}
        </p>
      )}
      {data.rolloutRunning && manage && <p className="text-slate-500">A rollout is running: servers cannot change sites until it has finished.</p>}

      {!noSites && (
        <ol className="space-y-2">
          {data.sites.map((site, i) => (
            <li key={site.id} className="rounded-md border border-slate-200 p-3" data-testid={`site-${site.name}`}>
              <div className="flex flex-wrap items-center gap-2">
                <span className="w-5 text-xs tabular-nums text-slate-400">{i + 1}.</span>
                <span className="font-medium text-slate-800">{site.name}</span>
                <span className="text-xs text-slate-500">{plural(site.servers.length, "server")}</span>
                {manage && (
                  <span className="ml-auto flex gap-1">
                    {i > 0 && (
                      <ActionForm action={manage.move} inline variant="secondary" submitLabel="↑" pendingLabel="…">
                        <input type="hidden" name="siteId" value={site.id} />
                        <input type="hidden" name="direction" value="up" />
                      </ActionForm>
                    )}
                    {i < data.sites.length - 1 && (
                      <ActionForm action={manage.move} inline variant="secondary" submitLabel="↓" pendingLabel="…">
                        <input type="hidden" name="siteId" value={site.id} />
                        <input type="hidden" name="direction" value="down" />
                      </ActionForm>
                    )}
                    <ActionForm action={manage.remove} inline variant="secondary" submitLabel="Remove" confirm={`Remove site ${site.name} from ${data.name}?`}>
                      <input type="hidden" name="siteId" value={site.id} />
                    </ActionForm>
                  </span>
                )}
              </div>
              <ServerBadges servers={site.servers} empty="No servers yet." />
              {manage && (
                <details className="mt-2">
                  <summary className="cursor-pointer text-xs font-medium text-indigo-700">Rename {site.name}…</summary>
                  <div className="mt-2">
                    <ActionForm action={manage.rename} submitLabel="Rename">
                      <input type="hidden" name="siteId" value={site.id} />
                      <Field name="name" label={`New name of ${site.name}`} defaultValue={site.name} maxLength={63} />
                    </ActionForm>
                  </div>
                </details>
              )}
            </li>
          ))}
          {data.withoutSite.length > 0 && (
            <li className="rounded-md border border-dashed border-slate-300 p-3" data-testid="site-none">
              <span className="font-medium text-slate-700">Servers without a site</span>
              <span className="ml-2 text-xs text-slate-500">roll out as one more site</span>
              <ServerBadges servers={data.withoutSite} empty="" />
            </li>
          )}
        </ol>
      )}

      {manage && (
        <>
          <details className="border-t border-slate-100 pt-3">
            <summary className="cursor-pointer font-medium text-indigo-700">Add a site to {data.name}…</summary>
            <div className="mt-3">
              <ActionForm action={manage.create} submitLabel="Add site">
                <input type="hidden" name="environmentId" value={data.id} />
                <Field name="name" label="Site name" placeholder="e.g. fra-1" hint="A data centre: its servers are rolled out together." maxLength={63} />
              </ActionForm>
            </div>
          </details>
          {!noSites && data.servers.length > 0 && (
            <div className="border-t border-slate-100 pt-3" data-testid="site-assign">
              <h3 className="mb-2 font-medium text-slate-800">Put a server in a site</h3>
              <ActionForm action={manage.assign} submitLabel="Save" resetOnSuccess={false} className="grid items-end gap-3 sm:grid-cols-[1fr_1fr_auto]">
                <SelectField
                  name="targetId"
                  label="Server"
                  options={data.servers.map((t) => ({ value: t.id, label: `${t.name} (${data.sites.find((s) => s.id === t.siteId)?.name ?? "no site"})` }))}
                />
                <SelectField name="siteId" label="Site" options={[...data.sites.map((s) => ({ value: s.id, label: s.name })), { value: "", label: "No site" }]} />
              </ActionForm>
            </div>
          )}
          <div className="border-t border-slate-100 pt-3" data-testid="site-settings">
            <h3 className="mb-2 font-medium text-slate-800">How rollouts cross the sites</h3>
            <ActionForm action={manage.settings} submitLabel="Save site settings" resetOnSuccess={false}>
              <input type="hidden" name="environmentId" value={data.id} />
              <div className="grid gap-4 sm:grid-cols-2">
                <SelectField
                  name="siteOrder"
                  label="Site order"
                  defaultValue={data.settings.siteOrder}
                  options={[
                    { value: "CHOSEN", label: "The order of the list above" },
                    { value: "SMALLEST_FIRST", label: "Smallest site first (a canary)" },
                  ]}
                />
                <Field
                  name="siteFloor"
                  label="Servers of each site that keep serving"
                  type="number"
                  defaultValue={data.settings.siteFloor}
                  hint="The floor: rollouts and rollbacks never take a site below it, so each site needs more servers than this. 0 = no floor (but never every server at once)."
                />
              </div>
              <CheckboxField name="pauseAfterFirstSite" label="Pause after the first site until someone continues (reverts never pause)" defaultChecked={data.settings.pauseAfterFirstSite} />
            </ActionForm>
          </div>
        </>
      )}
    </div>
  );
}

function ServerBadges({ servers, empty }: { servers: SitePanelServer[]; empty: string }) {
  if (servers.length === 0) return empty ? <p className="mt-1 text-xs text-slate-500">{empty}</p> : null;
  return (
    <ul className="mt-2 flex flex-wrap gap-1">
      {servers.map((t) => (
        <li key={t.id}>
          <Badge tone={t.status === "ACTIVE" ? "blue" : "gray"}>
            {t.name}
            {t.status === "REVOKED" ? " (revoked)" : t.status === "PENDING" ? " (no agent yet)" : ""}
          </Badge>
        </li>
      ))}
    </ul>
  );
}
