import type { Metadata } from "next";
import Link from "next/link";
import { formatTime } from "@/components/deployment-status";
import { RELEASE_STATUS, ReleaseStatusBadge } from "@/components/release-status";
import { Badge, EmptyState, PageHeader, plural } from "@/components/ui";
import { can } from "@/lib/auth/permissions";
import { loadForPage, pageIds, requirePageActor } from "@/lib/entry/page";
import { listReleasePage, ZReleaseListPageQuerySchema } from "@/lib/releases/list-releases";
import { formatBytes } from "@/lib/storage/format-bytes";

export const metadata: Metadata = { title: "Releases" };

type Search = Record<string, string | string[] | undefined>;

const input = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";

export default async function ReleasesPage({ params, searchParams }: { params: Promise<{ appId: string }>; searchParams: Promise<Search> }) {
  const { appId } = await pageIds(params);
  const actor = await requirePageActor();
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  // A hand-edited query (an unknown status, say) shows every release with a note rather than an error page.
  const parsed = ZReleaseListPageQuerySchema.safeParse(raw);
  const list = await loadForPage(() => listReleasePage(actor, appId, parsed.success ? parsed.data : {}), "a release list");
  const { application: app, query } = list;
  const href = (extra: Record<string, string | number | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ status: query.status, q: query.q, page: query.page, ...extra })) if (v !== undefined && v !== "" && !(k === "page" && v === 1)) q.set(k, String(v));
    const s = q.toString();
    return `/apps/${app.id}/releases${s ? `?${s}` : ""}`;
  };
  const filtered = query.status !== undefined || query.q !== undefined;
  return (
    <>
      <PageHeader
        title={`Releases of ${app.name}`}
        subtitle={
          <>
            <Link href={`/apps/${app.id}`} className="text-indigo-700 hover:underline">
              {app.name}
            </Link>
            {" · "}
            {app.customer.name}
          </>
        }
        actions={
          can(actor, "release.create", app.id) && (
            <Link href={`/apps/${app.id}/releases/new`} className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
              Upload a release
            </Link>
          )
        }
      />
      <form method="get" className="mb-4 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" aria-label="Filter releases">
        <label className="min-w-64 flex-1 text-xs font-medium text-slate-600">
          Search
          <input type="search" name="q" defaultValue={query.q ?? ""} placeholder="Version or text in the notes" className={input} />
        </label>
        <label className="w-44 text-xs font-medium text-slate-600">
          Status
          <select name="status" defaultValue={query.status ?? ""} className={input}>
            <option value="">Any status</option>
            {Object.entries(RELEASE_STATUS).map(([value, s]) => (
              <option key={value} value={value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50">
          Filter
        </button>
        {filtered && (
          <Link href={`/apps/${app.id}/releases`} className="py-1.5 text-sm text-indigo-700 hover:underline">
            Clear
          </Link>
        )}
      </form>
      {!parsed.success && (
        <p role="status" className="mb-4 text-sm text-amber-800">
          Some filters in the address were not understood and were ignored: {parsed.error.issues[0]?.message}
        </p>
      )}
      {list.releases.length === 0 ? (
        <EmptyState title={filtered ? "No release matches these filters." : "No releases yet."}>
          {filtered ? "Try another search or status." : can(actor, "release.create", app.id) ? "Upload the first release candidate." : "Developers upload release candidates here."}
        </EmptyState>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="w-full text-left text-sm" data-testid="release-list">
            <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th className="px-4 py-2 font-medium">Version</th>
                <th className="px-4 py-2 font-medium">Status</th>
                <th className="px-4 py-2 font-medium">Uploaded</th>
                <th className="px-4 py-2 text-right font-medium">Size</th>
                <th className="px-4 py-2 font-medium">SHA-256</th>
                <th className="px-4 py-2 font-medium">Live in</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {list.releases.map((r) => (
                <tr key={r.id} className="align-top hover:bg-slate-50">
                  <td className="px-4 py-2.5">
                    <Link href={`/apps/${app.id}/releases/${r.id}`} className="font-medium text-indigo-700 hover:underline">
                      {r.version}
                    </Link>
                    {r.needsMigration && (
                      <span className="ml-2">
                        <Badge tone="amber">migration</Badge>
                      </span>
                    )}
                  </td>
                  <td className="px-4 py-2.5">
                    <ReleaseStatusBadge status={r.status} />
                  </td>
                  <td className="px-4 py-2.5 text-slate-700">
                    {r.uploadedBy.name}
                    {r.uploadedViaToken && <span className="text-slate-500"> (pipeline)</span>}
                    <div className="text-xs text-slate-500">{formatTime(r.createdAt)}</div>
                  </td>
                  <td className="whitespace-nowrap px-4 py-2.5 text-right text-slate-700">{formatBytes(r.size)}</td>
                  <td className="px-4 py-2.5">
                    <code className="font-mono text-xs text-slate-600" title={r.sha256}>
                      {r.sha256.slice(0, 12)}
                    </code>
                  </td>
                  <td className="px-4 py-2.5">
                    {r.liveIn.length === 0 ? (
                      <span className="text-slate-400">—</span>
                    ) : (
                      <span className="flex flex-wrap gap-1">
                        {r.liveIn.map((e) => (
                          <Badge key={e.id} tone={e.isProduction ? "green" : "blue"}>
                            {e.name}
                          </Badge>
                        ))}
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav aria-label="Pages" className="mt-4 flex items-center justify-between text-sm text-slate-600">
        <span data-testid="release-count">
          {plural(list.total, "release")}
          {list.pageCount > 1 && ` · page ${query.page} of ${list.pageCount}`}
        </span>
        <span className="flex gap-3">
          {query.page > 1 && (
            <Link href={href({ page: query.page - 1 })} className="text-indigo-700 hover:underline">
              ← Newer
            </Link>
          )}
          {query.page < list.pageCount && (
            <Link href={href({ page: query.page + 1 })} className="text-indigo-700 hover:underline">
              Older →
            </Link>
          )}
        </span>
      </nav>
    </>
  );
}
