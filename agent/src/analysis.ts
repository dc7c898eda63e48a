// The post-deploy analysis' verdict: pure arithmetic on HAProxy's counters, so every rule is tested without a
// balancer (analysis.test.ts). bake.ts reads the counters and asks judgeBake() after each reading.
//
// The figures are HAProxy's own, per server: responses (hrsp_1xx..hrsp_other) and 5xx (hrsp_5xx), which are
// cumulative, so the window's figures are differences of readings; and rtime, HAProxy's average response time over
// the server's last 1024 responses, read at the end (with fewer than 1024 responses in the window it still includes
// some from before the switch: it can only understate a slow new build).
//
// The rules:
//   - Fewer than `minResponses` responses in the window are too few to judge: the analysis passes, saying so.
//   - 5xx: the node fails when its share of 5xx is over `max5xxPercent` above what the servers still on the previous
//     build answered in the same window (above 0 when none is left, or they had too little traffic to say). Failures
//     the old build has too are not the new build's, and rolling back would not cure them.
//   - Before the bake is over, the node fails only when the share is clearly over: the lower end of a Wilson
//     interval at z = 3 (a one-sided 99.9% bound) is above the limit. Asking after every reading would otherwise
//     fail a healthy node by chance now and then; a build failing one request in five is clear within ~40 responses.
//   - Response time, at the end only: over `maxResponseMs`, or over `maxResponseRatio` times the previous build's
//     (response-weighted over its servers; 1 ms at least, as HAProxy counts whole milliseconds).
import type { TAnalysisResult, TJobAnalysis } from "../../lib/contracts/agent-api";
import { plural } from "../../lib/util/text";

/** One reading of a server's counters on one balancer. */
export interface CounterReading {
  responses: number;
  http5xx: number;
  rtimeMs: number;
}

/** A server's counters over the window so far, on one balancer. */
export interface CounterWindow {
  responses: number;
  http5xx: number;
  /** The latest reading; null while the balancer could not be read at all. */
  last: CounterReading | null;
  /** Why the latest attempt to read failed; null when it succeeded. */
  error: string | null;
}

export const EMPTY_WINDOW: CounterWindow = { responses: 0, http5xx: 0, last: null, error: null };

/**
 * Adds a reading to the window. HAProxy's counters start again from 0 when it restarts (not on a reload with
 * server-state kept, but on a restart): a counter lower than before means everything since is new.
 */
export function addReading(w: CounterWindow, r: CounterReading): CounterWindow {
  if (!w.last) return { responses: 0, http5xx: 0, last: r, error: null };
  const restarted = r.responses < w.last.responses || r.http5xx < w.last.http5xx;
  return {
    responses: w.responses + (restarted ? r.responses : r.responses - w.last.responses),
    http5xx: w.http5xx + (restarted ? r.http5xx : r.http5xx - w.last.http5xx),
    last: r,
    error: null,
  };
}

export function addError(w: CounterWindow, error: string): CounterWindow {
  return { ...w, error };
}

/** Lower end of the Wilson score interval of `hits` in `n` (0 when n is 0). */
export function wilsonLower(hits: number, n: number, z: number): number {
  if (n === 0) return 0;
  const p = hits / n;
  const z2 = z * z;
  return Math.max(0, (p + z2 / (2 * n) - z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n));
}

/** How sure "clearly over" must be before the bake ends (see the rules above). */
export const EARLY_FAILURE_Z = 3;

export interface BakeInput {
  settings: TJobAnalysis;
  /** The node's name, as messages say it. */
  target: string;
  /** The node on each of its HAProxy balancers. */
  node: readonly { balancer: string; backend: string; server: string; window: CounterWindow }[];
  /** The servers still on the previous build, one window per membership; empty when none was left. */
  previous: readonly CounterWindow[];
  /** How many servers those memberships belong to. */
  previousServers: number;
  watchedSeconds: number;
  /** The bake is over (a verdict now), or ops stopped the deployment (`stopped`: no verdict). */
  final: boolean;
  stopped?: boolean;
}

/** Null: keep watching. */
export function judgeBake(input: BakeInput): TAnalysisResult | null {
  const { settings: s, target } = input;
  const node = totals(input.node.map((b) => b.window));
  const previous = input.previousServers > 0 ? totals(input.previous) : null;
  const secs = Math.round(input.watchedSeconds);
  const on = input.node.length ? ` on ${input.node.map((b) => `${b.balancer} ${b.backend}/${b.server}`).join(" and ")}` : "";
  const unread = input.node.filter((b) => !b.window.last).map((b) => `${b.balancer} could not be read${b.window.error ? ` (${b.window.error.replace(/\.+$/, "")})` : ""}`);
  const unreadNote = unread.length ? `; ${unread.join("; ")}` : "";
  const prevName = `servers still on ${s.previous.version ?? "the previous build"}`;
  const prevJudgeable = previous !== null && previous.responses >= s.minResponses;
  const prevRate = prevJudgeable ? previous.http5xx / previous.responses : 0;
  const allowed = s.max5xxPercent + prevRate * 100;
  const prevText =
    previous === null
      ? "no server was left on the previous build to compare with"
      : prevJudgeable
        ? `${prevName}: ${pct(previous.http5xx, previous.responses)} (${previous.http5xx} of ${previous.responses})${previous.rtimeMs !== null ? `, ${previous.rtimeMs} ms` : ""}`
        : `${prevName}: too little traffic to compare (${plural(previous.responses, "response")})`;
  const limitText = prevJudgeable && previous.http5xx > 0 ? `${num(allowed)}% (${num(s.max5xxPercent)}% above the ${prevName})` : `${num(s.max5xxPercent)}%`;
  const result = (verdict: TAnalysisResult["verdict"], judged: boolean, tripped: TAnalysisResult["tripped"], summary: string): TAnalysisResult => ({
    verdict,
    judged,
    tripped,
    summary,
    bakeSeconds: s.bakeSeconds,
    watchedSeconds: Math.round(input.watchedSeconds * 10) / 10,
    limits: { max5xxPercent: s.max5xxPercent, maxResponseMs: s.maxResponseMs, maxResponseRatio: s.maxResponseRatio, minResponses: s.minResponses },
    node: {
      ...node,
      balancers: input.node.map((b) => ({
        balancer: b.balancer,
        backend: b.backend,
        server: b.server,
        responses: b.window.responses,
        http5xx: b.window.http5xx,
        rtimeMs: b.window.last && b.window.responses > 0 ? b.window.last.rtimeMs : null,
        error: b.window.error,
      })),
    },
    previous: previous && { ...previous, version: s.previous.version, servers: input.previousServers },
  });

  if (input.node.length === 0) {
    return result("PASSED", false, null, `Post-deploy analysis passed without a verdict: ${target} is behind no HAProxy balancer, whose counters it reads.`);
  }
  const figures = `${pct(node.http5xx, node.responses)} of the responses of ${target} were 5xx (${node.http5xx} of ${node.responses} in ${secs} s${on})`;
  if (input.stopped) {
    return result("STOPPED", false, null, `Post-deploy analysis stopped after ${secs} s of ${s.bakeSeconds} at ops' request, without a verdict; so far ${figures}${unreadNote}.`);
  }
  if (node.responses < s.minResponses) {
    if (!input.final) return null;
    return result(
      "PASSED",
      false,
      null,
      `Post-deploy analysis passed without a verdict: too little traffic to judge: ${plural(node.responses, "response")} in ${secs} s${on} (at least ${s.minResponses} needed)${unreadNote}.`,
    );
  }

  const early = !input.final;
  const over5xx = early ? wilsonLower(node.http5xx, node.responses, EARLY_FAILURE_Z) * 100 > allowed : (node.http5xx / node.responses) * 100 > allowed;
  if (over5xx) {
    const when = early ? ` after ${secs} s of a ${s.bakeSeconds} s bake` : "";
    return result("FAILED", true, "5xx", `Post-deploy analysis: ${figures}${when}, over the limit of ${limitText}; ${prevText}${unreadNote}.`);
  }
  if (early) return null;

  const rtime = node.rtimeMs;
  if (rtime !== null && s.maxResponseMs !== null && rtime > s.maxResponseMs) {
    return result(
      "FAILED",
      true,
      "responseTime",
      `Post-deploy analysis: the average response time of ${target} was ${rtime} ms (HAProxy's rtime${on} after ${secs} s, ${plural(node.responses, "response")}), over the limit of ${s.maxResponseMs} ms; ${prevText}${unreadNote}.`,
    );
  }
  const prevRtime = prevJudgeable ? previous.rtimeMs : null;
  if (rtime !== null && s.maxResponseRatio !== null && prevRtime !== null && rtime > s.maxResponseRatio * Math.max(prevRtime, 1)) {
    return result(
      "FAILED",
      true,
      "responseRatio",
      `Post-deploy analysis: the average response time of ${target} was ${rtime} ms, ${num(rtime / Math.max(prevRtime, 1))} times the ${prevRtime} ms of the ${prevName} (HAProxy's rtime${on} after ${secs} s), over the limit of ${num(s.maxResponseRatio)} times; ${prevText}${unreadNote}.`,
    );
  }
  const limits = [
    `limit ${limitText}`,
    ...(s.maxResponseMs !== null ? [`response time limit ${s.maxResponseMs} ms`] : []),
    ...(s.maxResponseRatio !== null ? [prevRtime !== null ? `at most ${num(s.maxResponseRatio)} times the previous build's response time` : "response time not compared: nothing to compare with"] : []),
  ];
  return result(
    "PASSED",
    true,
    null,
    `Post-deploy analysis passed: ${figures}, average response time ${rtime ?? "unknown"}${rtime !== null ? " ms" : ""} (${limits.join("; ")}); ${prevText}${unreadNote}.`,
  );
}

/** All windows together: sums, and rtime weighted by each window's responses (null without responses). */
function totals(windows: readonly CounterWindow[]): { responses: number; http5xx: number; rtimeMs: number | null } {
  let responses = 0;
  let http5xx = 0;
  let weighted = 0;
  for (const w of windows) {
    responses += w.responses;
    http5xx += w.http5xx;
    if (w.last) weighted += w.last.rtimeMs * w.responses;
  }
  return { responses, http5xx, rtimeMs: responses > 0 ? Math.round(weighted / responses) : null };
}

/** "20.4%", "0.0%". */
function pct(part: number, whole: number): string {
  return `${whole > 0 ? ((part / whole) * 100).toFixed(1) : "0.0"}%`;
}

/** A limit or ratio as people write it: 5, 2.5, 1.25 (at most two decimals, no trailing zeros). */
function num(x: number): string {
  return String(Math.round(x * 100) / 100);
}
