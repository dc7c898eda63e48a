// Runs one job on this node and reports it. The order of an activation is what makes it zero-downtime:
//   (already staged: downloaded, verified, extracted) -> take out of the balancer (drain, wait for in-flight
//   requests, maint) -> stop -> [backup, migrate: first node of a migration only] -> switch `current` atomically ->
//   start -> health check proving the new version -> validate -> put back (ready, wait until the balancer says UP).
// The node is out of rotation only from "take out" to "put back", and never serves a half-installed build: builds
// are extracted under a temporary name and renamed complete, and `current` flips in one rename.
import { statfs } from "node:fs/promises";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { leftBehindSentence, type TAnalysisResult, type TJob, type TStepReport } from "../../lib/contracts/agent-api";
import { plural } from "../../lib/util/text";
import { type AgentApi, AgentApiError } from "./api-client";
import { bake } from "./bake";
import { expandVars } from "./config";
import { checkHealth, hookEnvironment, runHook } from "./install/hooks";
import type { ReleaseStore } from "./install/release-store";
import type { Journal } from "./journal";
import { HaproxyUnreachableError } from "./lb/haproxy";
import { balancersOfJob, createLoadBalancers } from "./lb/load-balancer";
import { StepLogStream } from "./log-stream";
import type { AgentLogger } from "./logger";
import { describeWaits } from "./waits";

export interface RunJobContext {
  api: AgentApi;
  job: TJob;
  store: ReleaseStore;
  journal: Journal;
  log: AgentLogger;
  vars: Record<string, string>;
  dir: string;
}

const RENEW_MS = 5_000;
/** What an older control plane, whose jobs do not carry healthCheckFailAfter5xx, gets: the environments' default. */
const DEFAULT_FAIL_AFTER_5XX = 3;

class Cancelled extends Error {}
class LeaseLost extends Error {}
/** The post-deploy analysis failed the node: the step fails with its figures. */
class AnalysisFailed extends Error {
  constructor(
    readonly analysis: TAnalysisResult,
    message: string,
  ) {
    super(message);
  }
}

export async function runJob(ctx: RunJobContext): Promise<void> {
  const { api, job, journal, log } = ctx;
  const logs = new StepLogStream(api, job.stepId, job.leaseId, (line) => log.info(line, { step: job.stepId }));
  const abort = new AbortController();
  let phase = "starting";
  let outOfRotation = false;
  /**
   * Once the node is out of rotation a cancel waits: stopping half-way would leave the node worse off. A rollback is
   * never stopped: it is what a stop asks for (control planes before 2026-12 asked it to stop too, which looped).
   */
  let cancellable = job.action !== "ROLLBACK";
  let cancelRequested = false;
  /** Ops' stop, whatever the phase: ends a bake at once (the node is back in rotation; the rollback returns it). */
  const stopAsked = new AbortController();

  const report = async (r: Omit<TStepReport, "leaseId">) => {
    try {
      const res = await api.report(job.stepId, { leaseId: job.leaseId, ...r });
      if (res.cancelRequested && !cancelRequested) {
        cancelRequested = true;
        logs.line(
          cancellable
            ? "Ops asked the deployment to stop: stopping here."
            : phase === "baking"
              ? `Ops asked the deployment to stop: the post-deploy analysis ends here (${job.target.name} is back in rotation; the rollback returns it).`
              : "Ops asked the deployment to stop: finishing this node's switch first so it is not left half-done.",
        );
        if (job.action !== "ROLLBACK") stopAsked.abort();
        if (cancellable) abort.abort(new Cancelled());
      }
    } catch (err) {
      if (err instanceof AgentApiError && err.code === "LEASE_LOST") {
        abort.abort(new LeaseLost(err.message));
        throw new LeaseLost(err.message);
      }
      throw err;
    }
  };
  // Phase reports go out in order but without holding up the work: the journal (local, synchronous) is what
  // crash recovery relies on; the server only needs to follow along. A refusal (lease lost) aborts the work.
  let reporting: Promise<void> = Promise.resolve();
  const enter = async (next: string, extra: { outOfRotation?: boolean; cancellable?: boolean; wait?: boolean } = {}) => {
    abort.signal.throwIfAborted();
    phase = next;
    if (extra.outOfRotation !== undefined) outOfRotation = extra.outOfRotation;
    if (extra.cancellable !== undefined) cancellable = extra.cancellable && job.action !== "ROLLBACK";
    await journal.write({ stepId: job.stepId, leaseId: job.leaseId, action: job.action, version: job.release.version, phase, startedAt: new Date().toISOString(), outOfRotation });
    const sent = reporting.then(() => report({ status: "RUNNING", phase: next }));
    reporting = sent.catch(() => undefined);
    if (extra.wait) await sent;
  };

  // Acknowledge first and wait for it (the server re-offers an unacknowledged claim), then keep the lease alive.
  try {
    await enter("starting", { wait: true });
  } catch (err) {
    log.warn(`could not start ${job.action} ${job.release.version}: ${(err as Error).message}`);
    await journal.clear();
    return;
  }
  // The agent's own record that this lease's work started: one line per job actually run (the fault tests count them).
  log.info(`started ${job.action} ${job.release.version}`, { step: job.stepId, lease: job.leaseId, attempt: job.attempt });
  // Every few seconds: renews the lease, and the answer carries ops' cancel, so a cancel reaches a node within
  // RENEW_MS even while a long hook runs.
  const renew = setInterval(() => void report({ status: "RUNNING", phase }).catch(() => undefined), Math.min(RENEW_MS, (job.leaseSeconds * 1000) / 4));

  let result: Omit<TStepReport, "leaseId">;
  try {
    let analysis: TAnalysisResult | null = null;
    if (job.action === "STAGE") await stage(ctx, logs, abort.signal, (p) => report({ status: "RUNNING", phase: "downloading", progress: p }));
    else analysis = await activate(ctx, logs, abort.signal, enter, { stop: stopAsked.signal, progress: (p, note) => void report({ status: "RUNNING", phase: "baking", progress: p, message: note }).catch(() => undefined) });
    const serves = job.restore ? `${job.restore.path} again` : job.release.version;
    result = { status: "SUCCEEDED", phase: "done", message: job.action === "STAGE" ? `${job.release.version} staged` : `${job.target.name} serves ${serves}`, ...(analysis ? { analysis } : {}) };
  } catch (err) {
    const reason = abort.signal.reason;
    if (reason instanceof LeaseLost || err instanceof LeaseLost) {
      logs.line(`Stopped: the control plane no longer holds this job for this agent (${(reason ?? err as Error).message}).`);
      clearInterval(renew);
      await logs.flush();
      await journal.clear();
      return;
    }
    const message = reason instanceof Cancelled ? "Stopped at ops' request." : (err as Error).message;
    logs.line(`${reason instanceof Cancelled ? "Cancelled" : "Failed"} during ${phase}: ${message}`);
    result = { status: reason instanceof Cancelled ? "CANCELLED" : "FAILED", phase, message: message.slice(0, 2000), ...(err instanceof AnalysisFailed ? { analysis: err.analysis } : {}) };
  } finally {
    clearInterval(renew);
  }
  await reporting;
  await logs.flush();
  // The final report must arrive: retry until it is accepted or refused (never report twice differently).
  for (let attempt = 0; ; attempt++) {
    try {
      await api.report(job.stepId, { leaseId: job.leaseId, ...result });
      break;
    } catch (err) {
      if (err instanceof AgentApiError && err.status < 500) {
        log.warn(`the control plane refused the result of ${job.action} ${job.release.version}: ${err.message}`);
        break;
      }
      await delay(Math.min(30_000, 1000 * 2 ** attempt));
    }
  }
  await journal.clear();
}

async function stage(ctx: RunJobContext, logs: StepLogStream, signal: AbortSignal, progress: (fraction: number) => Promise<void>) {
  const { job, store, api } = ctx;
  const existing = await store.findStaged(job.release);
  if (existing) {
    logs.line(`${job.release.version} (${job.release.sha256.slice(0, 12)}) is already staged on this node: no download.`);
    return existing;
  }
  const { url, headers } = api.artifact(job.release.downloadPath);
  logs.line(`Downloading ${job.release.fileName} (${formatBytes(job.release.size)}), sha256 ${job.release.sha256}`);
  let lastReported = 0;
  const { release } = await diskFullSaysSo(ctx, () => store.stageRelease({
    release: job.release,
    url,
    headers,
    signal,
    persistentPaths: job.persistentPaths,
    onProgress: (done, total) => {
      const now = Date.now();
      if (now - lastReported < 1000 && done < total) return;
      lastReported = now;
      void progress(total > 0 ? done / total : 0).catch(() => undefined);
    },
    onLog: (line) => logs.line(line),
  }));
  logs.line(`Verified size and SHA-256; extracted into ${release.dir}`);
  if (job.persistentPaths.length) logs.line(`Linked persistent paths from shared/: ${job.persistentPaths.join(", ")}`);
  await prune(ctx, logs);
  return release;
}

/**
 * A full disk fails the stage with the one sentence ops need (what, where, how much room there is) instead of a bare
 * "ENOSPC: no space left on device, write". The stage has already removed what it wrote (the partial download, the
 * half-extracted directory), so the node's disk is as it was and the release it serves is untouched.
 */
async function diskFullSaysSo<T>(ctx: RunJobContext, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOSPC" && code !== "EDQUOT") throw err;
    const room = await statfs(ctx.dir).then(
      (s) => `${formatBytes(s.bavail * s.bsize)} free of ${formatBytes(s.blocks * s.bsize)}`,
      () => "free space unknown",
    );
    const what = code === "EDQUOT" ? "The disk quota" : "The disk";
    throw new Error(
      `${what} holding ${ctx.dir} is full (${code}): staging ${ctx.job.release.version} (a ${formatBytes(ctx.job.release.size)} archive, more once extracted) did not fit; ${room} after cleaning up. ` +
        `Nothing changed on ${ctx.job.target.name}: it still serves what it served. Free some space and deploy again.`,
      { cause: err },
    );
  }
}

/** Keeps the last `keepReleases` builds, never the live one nor the one being installed. */
async function prune(ctx: RunJobContext, logs: StepLogStream, protect: string[] = []) {
  const pruned = await ctx.store.pruneReleases(ctx.job.keepReleases, protect);
  if (pruned.length) logs.line(`Removed old releases: ${pruned.join(", ")}`);
}

/**
 * Installs the job's build on the node between taking it out of rotation and putting it back; then, for an
 * activation whose environment asks for it, bakes it (post-deploy analysis) and returns the verdict.
 */
async function activate(
  ctx: RunJobContext,
  logs: StepLogStream,
  signal: AbortSignal,
  enter: (phase: string, extra?: { outOfRotation?: boolean; cancellable?: boolean }) => Promise<void>,
  baking: { stop: AbortSignal; progress: (fraction: number, note: string) => void },
): Promise<TAnalysisResult | null> {
  const { job, store, dir, vars } = ctx;
  // A node without the build (a new server, a pruned old release) stages it first; normally this is instant. A
  // restore goes back to a directory Releasegate did not install: nothing to stage, nothing to prune.
  const restore = job.restore ?? null;
  const staged = restore ? { dir: path.resolve(dir, restore.path), name: restore.path } : await stage(ctx, logs, signal, async () => undefined);
  const previous = await store.currentRelease();
  // Not a release of this agent: what another tool installed (or nothing), named as such in the log and for hooks.
  const outside = previous ? null : await store.describeCurrent();
  const outsideDir = outside?.kind === "foreign" ? path.resolve(dir, outside.path) : outside?.kind === "directory" ? store.currentLink : null;
  const env = { ...vars, ...hookEnvironment({ job, releaseDir: staged.dir, previousReleaseDir: previous?.dir ?? outsideDir }) };
  // A build from before Releasegate is no release of it: hooks see its directory, and no release id or version.
  if (restore) Object.assign(env, { RELEASEGATE_RELEASE_ID: "", RELEASEGATE_RELEASE_VERSION: "", RELEASEGATE_RELEASE_SHA256: "", RELEASEGATE_NEEDS_MIGRATION: "false" });
  // Where the activation's time goes: hooks, balancer waits and health checks are the application's and the
  // balancer's; the rest is Releasegate's own overhead (bench/rollout.ts reads this line).
  const waits: Record<string, number> = {};
  // A hook the balancer runs (drain commands) is timed inside taking the node out: counted once in the total.
  let depth = 0;
  let waitedMs = 0;
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    depth++;
    try {
      return await fn();
    } finally {
      depth--;
      const ms = performance.now() - started;
      waits[name] = Math.round((waits[name] ?? 0) + ms);
      if (depth === 0) waitedMs += ms;
    }
  };
  const hook = async (name: string, command: string | null, extraEnv?: Record<string, string>) => {
    if (!command) return;
    logs.line(`$ ${name}: ${command}`);
    const r = await timed(`hook:${name}`, () => runHook({ name, command, cwd: dir, env: { ...env, ...extraEnv }, timeoutSeconds: job.hooks.timeoutSeconds, onOutput: (l) => logs.line(`  ${l}`), signal }));
    logs.line(`${name} finished in ${(r.durationMs / 1000).toFixed(1)} s`);
  };
  // The balancer's waits, including for a runtime API that does not answer, are bounded like a hook.
  const balancerWaitSeconds = Math.min(job.hooks.timeoutSeconds, 60);
  const lb = createLoadBalancers(balancersOfJob(job), {
    onLog: (l) => logs.line(l),
    runCommand: (name, command, extraEnv) => hook(name, command, extraEnv),
    signal,
    drainTimeoutSeconds: balancerWaitSeconds,
    upTimeoutSeconds: balancerWaitSeconds,
    unreachableRetrySeconds: balancerWaitSeconds,
  });

  // What the node runs at each point, so a failure out of rotation can say exactly what it left behind.
  const was = previous?.version ?? (outside?.kind === "foreign" ? `${outside.path} (installed outside Releasegate)` : outside?.kind === "directory" ? "the files in current/" : "nothing");
  const to = restore ? `${restore.path} (a build installed outside Releasegate)` : job.release.version;
  let app = `its app still runs ${was}`;
  let outOfRotation = false;
  try {
    logs.line(`${job.action === "ROLLBACK" ? "Rolling back" : "Switching"} ${job.target.name} from ${was} to ${to}`);
    await enter("draining", { cancellable: false, outOfRotation: true });
    outOfRotation = true;
    await timed("balancer:take-out", () => lb.takeOut());
    await enter("stopping");
    if (job.hooks.stop) app = `its app (${was}) may be stopped`;
    await hook("stop", job.hooks.stop);
    if (job.hooks.stop) app = `its app (${was}) is stopped`;
    if (job.runMigration) {
      await enter("migrating");
      app = `its app (${was}) is stopped and the migration may have run`;
      await hook("maintenance-on", job.hooks.maintenanceOn);
      await hook("backup", job.hooks.backup);
      await hook("migrate", job.hooks.migrate);
    }
    await enter("switching");
    if (restore) await store.activateDirectory(restore.path);
    else await store.activateRelease(staged.name);
    app = `current points at ${to}, not started`;
    logs.line(`current -> ${restore ? restore.path : `releases/${staged.name}`}`);
    await enter("starting-app");
    await hook("start", job.hooks.start);
    app = `it runs ${to}`;
    if (job.hooks.healthCheckUrl) {
      await enter("health-check");
      const url = expandVars(job.hooks.healthCheckUrl, vars);
      // An earlier build's version is not Releasegate's to know: a restore only needs a healthy answer.
      const expectVersion = job.hooks.healthCheckExpectsVersion && !restore;
      const h = await timed("health-check", () =>
        checkHealth({
          url,
          ...(expectVersion ? { expectVersion: job.release.version } : {}),
          timeoutSeconds: job.hooks.timeoutSeconds,
          intervalMs: 100,
          // A build answering 5xx is broken: fail now, not at the timeout, so the rollback starts at once.
          failAfter5xx: job.hooks.healthCheckFailAfter5xx ?? DEFAULT_FAIL_AFTER_5XX,
          onLog: (l) => logs.line(l),
          signal,
        }),
      );
      logs.line(`Health check ${url} passed (HTTP ${h.status}, ${plural(h.attempts, "attempt")})${expectVersion ? `, answering ${job.release.version}` : ""}`);
    }
    if (job.hooks.validate) {
      await enter("validating");
      await hook("validate", job.hooks.validate);
    }
    if (job.runMigration) await hook("maintenance-off", job.hooks.maintenanceOff);
    await enter("undraining");
    await timed("balancer:put-back", () => lb.putBack());
    await enter("finishing", { outOfRotation: false });
    outOfRotation = false;
  } catch (err) {
    // A cancel or a lost lease is reported by the caller as such; a failure says what it left on the node.
    if (signal.aborted || !outOfRotation || !(err instanceof Error)) throw err;
    const balancer = err instanceof HaproxyUnreachableError ? null : lb.describeState();
    throw new Error(`${err.message.replace(/\.?$/, ".")}${leftBehindSentence(job.target.name, `${balancer ? `${balancer}; ` : ""}${app}`)}`, { cause: err });
  }
  // The build this node ran before stays: it is what a revert or rollback switches back to without a download.
  if (!restore) await prune(ctx, logs, previous ? [previous.name] : []);
  // Back in rotation, the node serves visitors: watch it before the rollout goes on. Only activations bake (the
  // control plane sends no analysis with a rollback, which returns to the build that served before).
  let analysis: TAnalysisResult | null = null;
  if (job.action === "ACTIVATE" && job.analysis) {
    const settings = job.analysis;
    await enter("baking");
    analysis = await timed("bake", () =>
      bake({ analysis: settings, target: job.target.name, balancers: balancersOfJob(job), signal, stop: baking.stop, onLog: (l) => logs.line(l), onProgress: baking.progress }),
    );
    if (analysis.verdict === "FAILED") throw new AnalysisFailed(analysis, `${analysis.summary}${leftBehindSentence(job.target.name, `it serves ${to}, in rotation`)}`);
  }
  const waited = describeWaits(waits, Math.round(waitedMs));
  if (waited) logs.line(waited);
  return analysis;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
