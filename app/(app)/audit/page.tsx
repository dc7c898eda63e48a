import type { Metadata } from "next";
import Link from "next/link";
import { Badge, Card, EmptyState, PageHeader } from "@/components/ui";
import { ZAuditFilterSchema } from "@/lib/audit/audit-filter";
import { AUDIT_EVENT_TYPES } from "@/lib/audit/event-types";
import { getAuditOverview } from "@/lib/audit/get-audit-overview";
import { searchAuditEvents } from "@/lib/audit/search-audit-events";
import { loadForPage, requirePageActor } from "@/lib/entry/page";

export const metadata: Metadata = { title: "Audit" };

type Search = Record<string, string | string[] | undefined>;

const input = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";

export default async function AuditPage({ searchParams }: { searchParams: Promise<Search> }) {
  const actor = await requirePageActor();
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const parsed = ZAuditFilterSchema.safeParse(raw);
  const filter = parsed.success ? parsed.data : {};
  const [overview, page] = await loadForPage(() => Promise.all([getAuditOverview(actor), searchAuditEvents(actor, filter)]), "the audit record");
  const query = (extra: Record<string, string>) => {
    const q = new URLSearchParams(Object.entries({ ...raw, ...extra }).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""));
    return q.toString();
  };
  const appName = new Map(overview.applications.map((a) => [a.id, a.name]));
  const envName = new Map(overview.applications.flatMap((a) => a.environments.map((e) => [e.id, `${a.name} / ${e.name}`] as const)));
  return (
    <>
      <PageHeader
        title="Audit record"
        subtitle={
          overview.lastCheckpoint
            ? `Hash-chained and signed: checkpoint ${overview.lastCheckpoint.number} covers events up to #${overview.lastCheckpoint.lastSeq} (${overview.lastCheckpoint.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC).`
            : "Hash-chained; the first signed checkpoint is written shortly after the first events."
        }
        actions={
          <div className="flex gap-2 text-sm">
            <a className="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50" href={`/audit/export?${query({ format: "csv", before: "" })}`}>
              Export CSV
            </a>
            <a className="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50" href={`/audit/export?${query({ format: "ndjson", before: "" })}`}>
              Export NDJSON
            </a>
          </div>
        }
      />
      <Card className="mb-6">
        <form method="get" className="grid gap-3 sm:grid-cols-4" aria-label="Filter audit events">
          <label className="text-xs font-medium text-slate-600">
            Application
            <select name="applicationId" defaultValue={raw.applicationId ?? ""} className={input}>
              <option value="">All</option>
              {overview.applications.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name} ({a.customer.name})
                </option>
              ))}
            </select>
          </label>
          <label className="text-xs font-medium text-slate-600">
            Environment
            <select name="environmentId" defaultValue={raw.environmentId ?? ""} className={input}>
              <option value="">All</option>
              {[...envName].map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label className="text-xs font-medium text-slate-600">
            Event type
            <select name="type" defaultValue={raw.type ?? ""} className={input}>
              <option value="">All</option>
              {Object.entries(AUDIT_EVENT_TYPES).map(([t, d]) => (
                <option key={t} value={t} title={d}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <label className="text-xs font-medium text-slate-600">
            Actor (email)
            <input name="actor" defaultValue={raw.actor ?? ""} placeholder="ana@example.com" className={input} />
          </label>
          <label className="text-xs font-medium text-slate-600">
            From
            <input type="date" name="from" defaultValue={raw.from ?? ""} className={input} />
          </label>
          <label className="text-xs font-medium text-slate-600">
            Until (exclusive)
            <input type="date" name="to" defaultValue={raw.to ?? ""} className={input} />
          </label>
          <label className="text-xs font-medium text-slate-600">
            Release version
            <input name="release" defaultValue={raw.release ?? ""} placeholder="2.4.1 or 2.4.*" className={input} />
          </label>
          <div className="flex items-end gap-2">
            <button type="submit" className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
              Filter
            </button>
            <Link href="/audit" className="px-2 py-1.5 text-sm text-slate-600 hover:text-slate-900">
              Clear
            </Link>
          </div>
        </form>
        {!parsed.success && (
          <p role="alert" className="mt-3 rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800">
            {parsed.error.issues[0]?.message ?? "Check the filter."} Showing all events instead.
          </p>
        )}
      </Card>
      {page.events.length === 0 ? (
        <EmptyState title="No events match.">Change the filter, or clear it.</EmptyState>
      ) : (
        <Card>
          <table className="w-full text-left text-sm" data-testid="audit-table">
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th className="py-2">#</th>
                <th>When (UTC)</th>
                <th>Who</th>
                <th>What</th>
                <th>Where</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 align-top">
              {page.events.map((e) => (
                <tr key={e.seq.toString()}>
                  <td className="py-2 pr-2 font-mono text-xs text-slate-500">{e.seq.toString()}</td>
                  <td className="whitespace-nowrap pr-3 text-xs text-slate-600">{e.occurredAt.toISOString().slice(0, 19).replace("T", " ")}</td>
                  <td className="pr-3">
                    <div>{e.actorLabel}</div>
                    {e.ip && <div className="text-xs text-slate-400">{e.ip}</div>}
                  </td>
                  <td className="pr-3">
                    <Badge tone={e.type === "PERMISSION_DENIED" || e.type === "USER_SIGN_IN_FAILED" ? "red" : "gray"}>{e.type}</Badge>
                    <div className="mt-1">{e.summary}</div>
                    {e.releaseId && (
                      <Link href={`/audit/releases/${e.releaseId}`} className="text-xs font-medium text-indigo-700 hover:underline">
                        Release evidence →
                      </Link>
                    )}
                  </td>
                  <td className="text-xs text-slate-600">
                    {e.applicationId && <div>{appName.get(e.applicationId) ?? "—"}</div>}
                    {e.environmentId && <div>{envName.get(e.environmentId) ?? ""}</div>}
                    <div className="font-mono text-slate-400" title={`hash ${e.hash}`}>
                      {e.hash.slice(0, 12)}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.nextBefore !== null && (
            <div className="mt-4 text-right">
              <Link href={`/audit?${query({ before: page.nextBefore.toString() })}`} className="text-sm font-medium text-indigo-700 hover:underline">
                Older events →
              </Link>
            </div>
          )}
        </Card>
      )}
      <Card title="Verify it yourself" className="mt-6">
        <p className="text-sm text-slate-700">
          Each event carries the hash of the one before it; checkpoints sign the chain with key <code className="font-mono">{overview.keyId.slice(0, 16)}</code>.
          Download the <a href="/audit/public-key" className="text-indigo-700 hover:underline">public key</a> and
          {overview.canExportComplete ? " a complete NDJSON export (no filter)" : " ask an administrator for a complete export"}, then run:
        </p>
        <pre className="mt-2 overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100">npm run audit:verify -- --public-key releasegate-audit-public-key.pem --export releasegate-audit-….ndjson</pre>
      </Card>
    </>
  );
}
