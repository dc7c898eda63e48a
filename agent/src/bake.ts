// The bake: once an activated node is back in rotation, watch it through its HAProxy balancers' own counters for
// the environment's bake period, beside the servers still on the previous build, and judge it (analysis.ts). One
// `show stat` per balancer a second covers the node and every comparison server behind that balancer; the verdict
// is asked after every reading, so a build that clearly fails visitors is caught within seconds, not at the end.
import { setTimeout as sleep } from "node:timers/promises";
import type { TAnalysisResult, TJobAnalysis, TJobBalancer } from "../../lib/contracts/agent-api";
import { plural } from "../../lib/util/text";
import { addError, addReading, type CounterReading, type CounterWindow, EMPTY_WINDOW, judgeBake } from "./analysis";
import { readResponseCounters } from "./lb/haproxy";

export interface BakeOptions {
  analysis: TJobAnalysis;
  /** The node's name, as messages say it. */
  target: string;
  /** The node's balancers (only HAProxy ones have counters to read). */
  balancers: readonly TJobBalancer[];
  /** Aborts the bake with its reason (the lease was lost): nothing is judged. */
  signal: AbortSignal;
  /** Ops stopped the deployment: the bake ends at once, with the figures so far and no verdict. */
  stop: AbortSignal;
  onLog: (line: string) => void;
  /** After every reading: how far the bake is, and the figures so far in a few words. */
  onProgress: (fraction: number, note: string) => void;
  /** Between readings (tests use a shorter one). */
  intervalMs?: number;
}

const READ_TIMEOUT_MS = 2_000;
const DEFAULT_INTERVAL_MS = 1_000;
/** How often the figures so far go to the step's log. */
const LOG_EVERY_MS = 10_000;

type Source = { address: string; key: string; window: CounterWindow };

export async function bake(o: BakeOptions): Promise<TAnalysisResult> {
  const a = o.analysis;
  const interval = o.intervalMs ?? DEFAULT_INTERVAL_MS;
  const haproxies = o.balancers.flatMap((b) => (b.kind === "HAPROXY" ? [b] : []));
  const node = haproxies.map((b) => ({ balancer: b.name, backend: b.backend, server: b.server, source: { address: b.address, key: `${b.backend}/${b.server}`, window: EMPTY_WINDOW } as Source }));
  const previous: Source[] = a.previous.servers.map((p) => ({ address: p.address, key: `${p.backend}/${p.server}`, window: EMPTY_WINDOW }));
  const previousServers = new Set(a.previous.servers.map((p) => p.target)).size;
  const started = performance.now();
  const watched = () => (performance.now() - started) / 1000;
  const judge = (final: boolean, stopped = false) =>
    judgeBake({
      settings: a,
      target: o.target,
      node: node.map((n) => ({ balancer: n.balancer, backend: n.backend, server: n.server, window: n.source.window })),
      previous: previous.map((p) => p.window),
      previousServers,
      watchedSeconds: Math.min(watched(), a.bakeSeconds),
      final,
      stopped,
    });
  if (node.length === 0) return judge(true)!;

  const comparedWith = previousServers
    ? `${plural(previousServers, "server")} still on ${a.previous.version ?? "the previous build"} (${[...new Set(a.previous.servers.map((p) => p.target))].join(", ")})`
    : "no server left on the previous build";
  o.onLog(
    `Post-deploy analysis: watching ${o.target} for ${a.bakeSeconds} s on ${node.map((n) => `${n.balancer} ${n.source.key}`).join(" and ")}, beside ${comparedWith}; ` +
      `it fails above ${a.max5xxPercent}% 5xx${a.maxResponseMs !== null ? `, ${a.maxResponseMs} ms average response time` : ""}` +
      `${a.maxResponseRatio !== null ? `, ${a.maxResponseRatio} times the previous build's response time` : ""}.`,
  );

  const sources = [...node.map((n) => n.source), ...previous];
  const read = async () => {
    const signal = AbortSignal.any([o.signal, AbortSignal.timeout(READ_TIMEOUT_MS)]);
    const addresses = [...new Set(sources.map((s) => s.address))];
    const answers = await Promise.all(
      addresses.map((address) =>
        readResponseCounters(address, { signal, timeoutMs: READ_TIMEOUT_MS }).then(
          (rows) => ({ address, rows, error: null }),
          (error: unknown) => ({ address, rows: null, error: reason(error) }),
        ),
      ),
    );
    o.signal.throwIfAborted();
    for (const s of sources) {
      const answer = answers.find((x) => x.address === s.address)!;
      const row: CounterReading | undefined = answer.rows?.get(s.key);
      s.window = row ? addReading(s.window, row) : addError(s.window, answer.error ?? `HAProxy has no server ${s.key}`);
    }
  };

  await read();
  let lastLog = performance.now();
  for (;;) {
    const left = a.bakeSeconds * 1000 - (performance.now() - started);
    if (left > 0 && !o.stop.aborted) {
      try {
        await sleep(Math.min(interval, left), undefined, { signal: AbortSignal.any([o.signal, o.stop]) });
      } catch (error) {
        o.signal.throwIfAborted();
        if (!o.stop.aborted) throw error;
      }
    }
    if (o.stop.aborted) {
      const r = judge(true, true)!;
      o.onLog(r.summary);
      return r;
    }
    await read();
    const final = performance.now() - started >= a.bakeSeconds * 1000;
    const verdict = judge(final);
    const n = node.reduce((sum, x) => sum + x.source.window.responses, 0);
    const e = node.reduce((sum, x) => sum + x.source.window.http5xx, 0);
    const note = `${e} of ${plural(n, "response")} 5xx so far`;
    o.onProgress(Math.min(1, watched() / a.bakeSeconds), note);
    if (verdict) {
      o.onLog(verdict.summary);
      return verdict;
    }
    if (performance.now() - lastLog >= LOG_EVERY_MS) {
      lastLog = performance.now();
      o.onLog(`Post-deploy analysis: ${Math.round(watched())} s of ${a.bakeSeconds}: ${note}.`);
    }
  }
}

function reason(error: unknown): string {
  if (error instanceof Error) return error.name === "TimeoutError" || error.name === "AbortError" ? `no answer within ${READ_TIMEOUT_MS / 1000} s` : error.message;
  return String(error);
}
