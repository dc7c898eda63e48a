import type { TAnalysisResult } from "@/lib/contracts/agent-api";
import { Badge } from "./ui";

const TRIPPED: Record<NonNullable<TAnalysisResult["tripped"]>, string> = {
  "5xx": "5xx responses",
  responseTime: "response time",
  responseRatio: "response time against the previous build",
};

const share = (part: number, whole: number) => (whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : "—");
const ms = (v: number | null) => (v === null ? "—" : `${v} ms`);

/**
 * A server's post-deploy analysis on the deployment page: the verdict, the figures that decided it (the server on each
 * of its balancers, and the servers still on the previous build over the same window) and the limits they met.
 */
export function AnalysisFigures({ server, version, analysis: a }: { server: string; version: string | null; analysis: TAnalysisResult }) {
  const badge =
    a.verdict === "FAILED" ? (
      <Badge tone="red">failed on {a.tripped ? TRIPPED[a.tripped] : "a figure"}</Badge>
    ) : a.verdict === "STOPPED" ? (
      <Badge tone="amber">stopped</Badge>
    ) : a.judged ? (
      <Badge tone="green">passed</Badge>
    ) : (
      <Badge tone="gray">passed without a verdict</Badge>
    );
  const limits = [
    `5xx at most ${a.limits.max5xxPercent}%${a.previous ? " above the previous build" : ""}`,
    ...(a.limits.maxResponseMs !== null ? [`response time at most ${a.limits.maxResponseMs} ms`] : []),
    ...(a.limits.maxResponseRatio !== null ? [`at most ${a.limits.maxResponseRatio} times the previous build's response time`] : []),
    `at least ${a.limits.minResponses} responses to judge`,
  ];
  const rows = [
    ...a.node.balancers.map((b) => ({
      key: `${b.balancer} ${b.backend}/${b.server}`,
      label: (
        <>
          {server}
          {version ? ` (${version})` : ""} <span className="text-slate-500">on {b.balancer} {b.backend}/{b.server}</span>
          {b.error && <span className="block text-xs text-amber-700">last reading failed: {b.error}</span>}
        </>
      ),
      responses: b.responses,
      http5xx: b.http5xx,
      rtimeMs: b.rtimeMs,
      strong: a.node.balancers.length === 1,
    })),
    ...(a.node.balancers.length > 1 ? [{ key: "node", label: <>{server}, all balancers</>, responses: a.node.responses, http5xx: a.node.http5xx, rtimeMs: a.node.rtimeMs, strong: true }] : []),
    ...(a.previous
      ? [
          {
            key: "previous",
            label: (
              <>
                Servers still on {a.previous.version ?? "the previous build"} <span className="text-slate-500">({a.previous.servers})</span>
              </>
            ),
            responses: a.previous.responses,
            http5xx: a.previous.http5xx,
            rtimeMs: a.previous.rtimeMs,
            strong: false,
          },
        ]
      : []),
  ];
  return (
    <section aria-label={`Post-deploy analysis of ${server}`} className="mt-2 rounded-md border border-slate-200 bg-slate-50 px-3 py-2" data-testid="analysis">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="font-medium text-slate-800">Post-deploy analysis</span>
        {badge}
        <span className="text-xs text-slate-500">
          watched {a.watchedSeconds} s of {a.bakeSeconds} s
        </span>
      </div>
      {/* A failure's sentence is the step's message just above; a pass says here what it found. */}
      {a.verdict !== "FAILED" && <p className="mt-1 text-sm text-slate-700">{a.summary}</p>}
      {a.node.balancers.length > 0 && (
        <table className="mt-2 w-full text-left text-xs" data-testid="analysis-figures">
          <thead className="text-slate-500">
            <tr>
              <th className="py-1 pr-3 font-medium"></th>
              <th className="py-1 pr-3 text-right font-medium">Responses</th>
              <th className="py-1 pr-3 text-right font-medium">5xx</th>
              <th className="py-1 pr-3 text-right font-medium">5xx share</th>
              <th className="py-1 text-right font-medium">Avg response time</th>
            </tr>
          </thead>
          <tbody className="tabular-nums text-slate-800">
            {rows.map((r) => (
              <tr key={r.key} className={r.strong ? "font-medium" : ""}>
                <td className="py-1 pr-3">{r.label}</td>
                <td className="py-1 pr-3 text-right">{r.responses}</td>
                <td className="py-1 pr-3 text-right">{r.http5xx}</td>
                <td className={`py-1 pr-3 text-right ${a.tripped === "5xx" && r.strong ? "text-rose-700" : ""}`}>{share(r.http5xx, r.responses)}</td>
                <td className={`py-1 text-right ${a.tripped && a.tripped !== "5xx" && r.strong ? "text-rose-700" : ""}`}>{ms(r.rtimeMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="mt-1 text-xs text-slate-500">Limits: {limits.join("; ")}.</p>
    </section>
  );
}
