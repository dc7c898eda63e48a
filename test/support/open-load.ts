// Open-model load: requests go out on a fixed schedule whatever the server does, so a stall or an outage shows up
// as failures and latency instead of slowing the load down (a closed loop of N clients hides exactly that).
//
// Request i is due at start + i / rate. A timer fires due requests and catches up at once if the event loop was
// late; latency counts from the due time, so client-side delays are not hidden either. Most requests share a pool
// of keep-alive connections (the case where a server closing an idle connection races a new request); every Nth
// opens a fresh connection. Every connection error, timeout and non-2xx answer counts as a failure.
//
// Bounded on purpose: loopback targets only, at most 500 requests/s, at most 10 minutes.
import http from "node:http";
import { performance } from "node:perf_hooks";

export const MAX_RATE_PER_SECOND = 500;
const MAX_DURATION_MS = 10 * 60_000;

export interface OpenLoadOptions {
  /** Base URL, loopback only: http://127.0.0.1:8080 */
  url: string;
  ratePerSecond: number;
  /** Paths requested in turn (default ["/version"]). */
  paths?: string[];
  /** Reuse connections through a keep-alive agent (default true). */
  keepAlive?: boolean;
  /** Every Nth request opens its own connection (default 10; 0 = never). */
  freshConnectionEvery?: number;
  /**
   * Most connections open at once (default 256). Below it, a request that finds every pooled connection busy opens
   * a new one instead of queueing in the client, so a stalled server still receives requests on schedule.
   */
  maxSockets?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Stop scheduling after this long even if stop() is not called (default 2 min, max 10 min). */
  maxDurationMs?: number;
}

export interface OpenLoadResult {
  seq: number;
  path: string;
  /** ms after the start when the request was due. */
  scheduledAtMs: number;
  /** How late it actually went out. */
  sendLagMs: number;
  /** From the due time to the end of the response (or the error). */
  latencyMs: number;
  fresh: boolean;
  status?: number;
  /** Node's error code (ECONNRESET, ECONNREFUSED, ETIMEDOUT...) or message. */
  error?: string;
  version?: string;
}

export interface OpenLoadFailure {
  atMs: number;
  path: string;
  status?: number;
  error?: string;
}

export interface OpenLoadSummary {
  durationMs: number;
  sent: number;
  ok: number;
  failed: number;
  failures: OpenLoadFailure[];
  /** version -> successful responses that carried it. */
  versionsSeen: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  maxSendLagMs: number;
}

export interface OpenLoad {
  /** Live counts, e.g. to wait until a new version shows up. */
  snapshot(): { sent: number; ok: number; failed: number; versionsSeen: Record<string, number> };
  results(): readonly OpenLoadResult[];
  /** Stops scheduling, waits for requests in flight (bounded by the timeout), and summarises. */
  stop(): Promise<OpenLoadSummary>;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function startOpenLoad(options: OpenLoadOptions): OpenLoad {
  const base = new URL(options.url);
  if (base.protocol !== "http:") throw new Error(`open load: only http:// targets (got ${base.protocol})`);
  if (!isLoopbackHost(base.hostname)) throw new Error(`open load: refusing non-loopback host ${base.hostname}`);
  const rate = options.ratePerSecond;
  if (!(rate > 0 && rate <= MAX_RATE_PER_SECOND)) throw new Error(`open load: rate must be in (0, ${MAX_RATE_PER_SECOND}] per second`);
  const paths = options.paths?.length ? options.paths : ["/version"];
  for (const p of paths) if (!p.startsWith("/")) throw new Error(`open load: path must start with / (${p})`);
  const freshEvery = options.freshConnectionEvery ?? 10;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxDurationMs = Math.min(options.maxDurationMs ?? 120_000, MAX_DURATION_MS);
  const keepAlive = options.keepAlive ?? true;
  const agent = new http.Agent({ keepAlive, maxSockets: options.maxSockets ?? 256, maxFreeSockets: 16 });

  const intervalMs = 1000 / rate;
  const lastSeq = Math.floor((maxDurationMs * rate) / 1000);
  const startedAt = performance.now();
  const results: OpenLoadResult[] = [];
  const inFlight = new Set<Promise<void>>();
  let next = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const fire = (seq: number) => {
    const path = paths[seq % paths.length] ?? "/";
    const fresh = !keepAlive || (freshEvery > 0 && seq % freshEvery === freshEvery - 1);
    const scheduledAtMs = seq * intervalMs;
    const sentAt = performance.now();
    const result: OpenLoadResult = { seq, path, scheduledAtMs, sendLagMs: sentAt - startedAt - scheduledAtMs, latencyMs: 0, fresh };
    results.push(result);
    const done = new Promise<void>((resolve) => {
      let settled = false;
      const settle = (outcome: { status?: number; error?: string; version?: string }) => {
        if (settled) return;
        settled = true;
        Object.assign(result, outcome, { latencyMs: performance.now() - startedAt - scheduledAtMs });
        resolve();
      };
      const req = http.request(new URL(path, base), {
        method: "GET",
        agent: fresh ? false : agent,
        headers: fresh ? { connection: "close" } : {},
      });
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error("request timed out"), { code: "ETIMEDOUT" })));
      req.on("error", (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= 64 * 1024) chunks.push(chunk);
        });
        res.on("error", (error: NodeJS.ErrnoException) => settle({ status: res.statusCode, error: error.code ?? error.message }));
        res.on("aborted", () => settle({ status: res.statusCode, error: "ECONNRESET" }));
        res.on("end", () => {
          const header = res.headers["x-app-version"];
          settle({
            status: res.statusCode,
            version: versionFromBody(Buffer.concat(chunks).toString("utf8")) ?? (typeof header === "string" ? header : undefined),
          });
        });
      });
      req.end();
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };

  const tick = () => {
    timer = undefined;
    if (stopped) return;
    const elapsed = performance.now() - startedAt;
    while (next <= lastSeq && next * intervalMs <= elapsed) fire(next++);
    if (next > lastSeq) return;
    timer = setTimeout(tick, Math.max(0, next * intervalMs - (performance.now() - startedAt)));
  };
  tick();

  const isOk = (r: OpenLoadResult) => r.error === undefined && r.status !== undefined && r.status >= 200 && r.status < 300;
  const finished = (r: OpenLoadResult) => r.error !== undefined || r.status !== undefined;
  const countVersions = () => {
    const seen: Record<string, number> = {};
    for (const r of results) if (isOk(r) && r.version) seen[r.version] = (seen[r.version] ?? 0) + 1;
    return seen;
  };

  return {
    snapshot: () => ({
      sent: results.length,
      ok: results.filter(isOk).length,
      failed: results.filter((r) => finished(r) && !isOk(r)).length,
      versionsSeen: countVersions(),
    }),
    results: () => results,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      const durationMs = performance.now() - startedAt;
      await Promise.race([Promise.all([...inFlight]), new Promise((r) => setTimeout(r, timeoutMs + 1_000))]);
      agent.destroy();
      for (const r of results) if (!finished(r)) r.error = "UNFINISHED";
      const failures = results.filter((r) => !isOk(r)).map((r) => ({ atMs: Math.round(r.scheduledAtMs), path: r.path, status: r.status, error: r.error }));
      const latencies = results.filter(isOk).map((r) => r.latencyMs).sort((a, b) => a - b);
      return {
        durationMs: Math.round(durationMs),
        sent: results.length,
        ok: results.length - failures.length,
        failed: failures.length,
        failures,
        versionsSeen: countVersions(),
        latencyMs: { p50: round(percentile(latencies, 0.5)), p99: round(percentile(latencies, 0.99)), max: round(latencies.at(-1) ?? 0) },
        maxSendLagMs: round(results.reduce((max, r) => Math.max(max, r.sendLagMs), 0)),
      };
    },
  };
}

function versionFromBody(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object" && "version" in parsed && typeof parsed.version === "string") return parsed.version;
  } catch {
    // not JSON: fall back to the X-App-Version header
  }
  return undefined;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
