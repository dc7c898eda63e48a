// Runs the application's hook commands (stop, start, migrate...) and its health check, the parts of an install the
// agent cannot do itself. Ops write the hooks; a hook that hangs or forks must not wedge the agent, so each runs in
// its own process group that we can kill as a whole, and its output reaches the deployment log line by line while
// it runs (people watch long migrations).
import { spawn } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { setTimeout as delay } from "node:timers/promises";
import type { TJob } from "../../../lib/contracts/agent-api";
import { describeFetchError } from "../fetch-error";

export interface RunHookOptions {
  /** For messages: "migrate", "start"... */
  name: string;
  /** Run by `/bin/sh -c`. */
  command: string;
  cwd: string;
  /** Added to the agent's own environment (hooks need PATH, HOME...). */
  env?: Record<string, string>;
  timeoutSeconds: number;
  /** Each complete line of stdout or stderr, without its newline, as soon as it is complete. */
  onOutput?: (line: string) => void;
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL when the hook is stopped. */
  killGraceMs?: number;
}

export interface HookResult {
  durationMs: number;
}

/** Output lines kept for the failure message: enough to see the error, short enough for a step report. */
const LAST_LINES = 10;
const MAX_LINE_IN_MESSAGE = 160;
/** A "line" longer than this is passed on in pieces: a program printing megabytes without a newline must not grow us. */
const MAX_LINE_CHARS = 16 * 1024;
/** After the shell exits, how long background children may keep our pipes open before we stop reading. */
const PIPE_DRAIN_MS = 500;

export class HookFailedError extends Error {
  constructor(
    readonly hookName: string,
    /** What happened, e.g. "exited with code 3", "timed out after 60s". */
    readonly reason: string,
    readonly exitCode: number | null,
    readonly lastLines: string[],
  ) {
    const shown = lastLines.map((line) => (line.length > MAX_LINE_IN_MESSAGE ? `${line.slice(0, MAX_LINE_IN_MESSAGE)}…` : line));
    const tail = shown.length > 0 ? `\nLast output:\n${shown.join("\n")}` : "";
    super(`Hook "${hookName}" ${reason}.${tail}`);
    this.name = "HookFailedError";
  }
}

export class HealthCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HealthCheckError";
  }
}

export function runHook(options: RunHookOptions): Promise<HookResult> {
  const { name, command, cwd, timeoutSeconds, onOutput, signal } = options;
  const killGraceMs = options.killGraceMs ?? 10_000;
  const started = Date.now();
  const lastLines: string[] = [];
  const emit = (line: string) => {
    lastLines.push(line);
    if (lastLines.length > LAST_LINES) lastLines.shift();
    onOutput?.(line);
  };

  return new Promise<HookResult>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new HookFailedError(name, "was cancelled before it started", null, []));
      return;
    }
    // detached: the shell leads a new process group, so kill(-pid) reaches everything it started, grandchildren too.
    const child = spawn("/bin/sh", ["-c", command], {
      cwd,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const splitters = [lineSplitter(emit), lineSplitter(emit)] as const;
    child.stdout.on("data", (chunk: Buffer) => splitters[0].push(chunk));
    child.stderr.on("data", (chunk: Buffer) => splitters[1].push(chunk));

    const pipesClosed = new Promise<void>((done) => child.once("close", () => done()));

    let stopReason: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let exited = false;
    let settled = false;
    const stop = (reason: string) => {
      // Once the shell has exited on its own, what remains in its group was left running on purpose.
      if (stopReason !== undefined || exited) return;
      stopReason = reason;
      killGroup(child.pid, "SIGTERM");
      // Also when the shell itself traps SIGTERM and never exits.
      killTimer = setTimeout(() => killGroup(child.pid, "SIGKILL"), killGraceMs);
    };
    const timer = setTimeout(() => stop(`timed out after ${timeoutSeconds}s`), timeoutSeconds * 1000);
    const onAbort = () => stop("was cancelled");
    signal?.addEventListener("abort", onAbort, { once: true });

    const finish = (failure: { reason: string; exitCode: number | null } | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      signal?.removeEventListener("abort", onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      // A last line without a newline is output too, and often the error message itself.
      for (const splitter of splitters) splitter.flush();
      if (failure) reject(new HookFailedError(name, failure.reason, failure.exitCode, [...lastLines]));
      else resolve({ durationMs: Date.now() - started });
    };

    child.on("error", (error) => finish({ reason: `could not be started: ${error.message}`, exitCode: null }));
    child.on("exit", (code, exitSignal) => {
      exited = true;
      void (async () => {
        if (stopReason !== undefined) {
          // The shell is gone but what it started may ignore SIGTERM: give the group its grace, then SIGKILL, and only
          // then report, so the caller never goes on while part of the hook still runs.
          await waitForGroupToEnd(child.pid, killGraceMs);
          killGroup(child.pid, "SIGKILL");
          finish({ reason: stopReason, exitCode: code });
          return;
        }
        // Background children (a start hook that launches a daemon with `&`) may hold our pipes open for ever; they
        // are the hook's business, not a reason to wait, so take what output is there and stop reading.
        await Promise.race([pipesClosed, delay(PIPE_DRAIN_MS)]);
        if (code === 0) finish(null);
        else if (code !== null) finish({ reason: `exited with code ${code}`, exitCode: code });
        else finish({ reason: `was killed by ${exitSignal}`, exitCode: null });
      })();
    });
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** True once no process is left in the group, polling; false if some are still there after `ms`. */
async function waitForGroupToEnd(pid: number | undefined, ms: number): Promise<boolean> {
  if (pid === undefined) return true;
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      process.kill(-pid, 0);
    } catch {
      return true;
    }
    if (Date.now() >= deadline) return false;
    await delay(Math.min(50, ms));
  }
}

/** Bytes in, complete lines out; UTF-8 sequences split across chunks are kept whole. */
function lineSplitter(emit: (line: string) => void): { push(chunk: Buffer): void; flush(): void } {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  const drain = () => {
    let newline: number;
    while ((newline = pending.indexOf("\n")) !== -1) {
      emit(pending.slice(0, newline).replace(/\r$/, ""));
      pending = pending.slice(newline + 1);
    }
    while (pending.length > MAX_LINE_CHARS) {
      emit(pending.slice(0, MAX_LINE_CHARS));
      pending = pending.slice(MAX_LINE_CHARS);
    }
  };
  return {
    push(chunk) {
      pending += decoder.write(chunk);
      drain();
    },
    flush() {
      pending += decoder.end();
      drain();
      if (pending !== "") emit(pending);
      pending = "";
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

export interface CheckHealthOptions {
  url: string;
  /** The body must contain this (e.g. the version the node should now run), not just answer 2xx. */
  expectVersion?: string;
  timeoutSeconds: number;
  intervalMs: number;
  /**
   * Fail as soon as this many answers in a row carry a 5xx status, instead of waiting for the timeout: a build that
   * answers 500 is broken, and waiting keeps its node out of rotation for nothing. Any other answer starts the count
   * again; a connection error neither counts nor breaks the row (the app may still be starting). 0 or absent: off.
   */
  failAfter5xx?: number;
  /** Between probes after a 5xx answer (default 1 s): an app that answers 500 for a moment while it warms up passes. */
  fiveXxIntervalMs?: number;
  /** Each 5xx answer, for the deployment log. */
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

/** How much of a health answer we read looking for the version. */
const MAX_HEALTH_BODY_BYTES = 64 * 1024;
/** One probe may take at most this long, so a hanging endpoint still gets several tries... */
const MAX_PROBE_MS = 10_000;
/** ...and at least this long, even near the deadline: a probe we cut short ourselves tells nothing about the node. */
const MIN_PROBE_MS = 2_000;

/** A 5xx answer is probed again after this by default (see CheckHealthOptions.fiveXxIntervalMs). */
export const DEFAULT_5XX_INTERVAL_MS = 1_000;

/**
 * Polls until the node answers healthy; otherwise fails with what it saw last, which is what ops need to know: at the
 * timeout, or at once after `failAfter5xx` server errors in a row.
 */
export async function checkHealth(options: CheckHealthOptions): Promise<{ attempts: number; status: number }> {
  const { url, expectVersion, timeoutSeconds, intervalMs, signal } = options;
  const failAfter5xx = options.failAfter5xx ?? 0;
  const deadline = Date.now() + timeoutSeconds * 1000;
  let lastSeen = "no answer yet";
  /** Answers in a row with a 5xx status, and when the first of them came. */
  let row = 0;
  let rowStartedAt = 0;
  for (let attempts = 1; ; attempts++) {
    signal?.throwIfAborted();
    const probeMs = Math.min(MAX_PROBE_MS, Math.max(MIN_PROBE_MS, deadline - Date.now()));
    const probeSignal = signal ? AbortSignal.any([signal, AbortSignal.timeout(probeMs)]) : AbortSignal.timeout(probeMs);
    try {
      const response = await fetch(url, { signal: probeSignal, redirect: "follow" });
      const body = await readCapped(response, MAX_HEALTH_BODY_BYTES);
      if (response.status >= 200 && response.status < 300) {
        if (expectVersion === undefined || body.includes(expectVersion)) return { attempts, status: response.status };
        lastSeen = `HTTP ${response.status} without version ${JSON.stringify(expectVersion)} in the body: ${snippet(body)}`;
      } else {
        lastSeen = `HTTP ${response.status}: ${snippet(body)}`;
      }
      if (response.status >= 500 && response.status <= 599 && failAfter5xx > 0) {
        if (row++ === 0) rowStartedAt = Date.now();
        options.onLog?.(`Health check ${url}: HTTP ${response.status} (${row} of ${failAfter5xx} in a row before the build counts as failed)`);
        if (row >= failAfter5xx) {
          const over = ((Date.now() - rowStartedAt) / 1000).toFixed(1);
          throw new HealthCheckError(`Health check ${url} answered HTTP ${response.status} ${row} times in a row over ${over} s: ${snippet(body)}`);
        }
      } else {
        row = 0;
      }
    } catch (error) {
      if (error instanceof HealthCheckError) throw error;
      signal?.throwIfAborted();
      lastSeen = describeFetchError(error);
    }
    const wait = row > 0 ? (options.fiveXxIntervalMs ?? DEFAULT_5XX_INTERVAL_MS) : intervalMs;
    if (Date.now() + wait > deadline) {
      throw new HealthCheckError(
        `Health check ${url} did not pass within ${timeoutSeconds}s (${attempts} attempts); last: ${lastSeen}`,
      );
    }
    await delay(wait, undefined, { signal });
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.byteLength;
    if (length >= maxBytes) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  if (flat === "") return "(empty body)";
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

// ---------------------------------------------------------------------------------------------------------------

export interface HookEnvironmentInput {
  job: Pick<TJob, "action" | "deployment" | "application" | "environment" | "target" | "release">;
  /** The release directory this step installs. */
  releaseDir: string;
  /** The release directory the node served before, or null on a first install. */
  previousReleaseDir: string | null;
}

/** What every hook can read about the install it is part of. Values are strings; absent ones are empty. */
export function hookEnvironment({ job, releaseDir, previousReleaseDir }: HookEnvironmentInput): Record<string, string> {
  return {
    RELEASEGATE_RELEASE_ID: job.release.id,
    RELEASEGATE_RELEASE_VERSION: job.release.version,
    RELEASEGATE_RELEASE_SHA256: job.release.sha256,
    RELEASEGATE_RELEASE_DIR: releaseDir,
    RELEASEGATE_PREVIOUS_RELEASE_DIR: previousReleaseDir ?? "",
    RELEASEGATE_ENVIRONMENT: job.environment.slug,
    RELEASEGATE_APPLICATION: job.application.slug,
    RELEASEGATE_TARGET: job.target.name,
    RELEASEGATE_DEPLOYMENT_ID: job.deployment.id,
    RELEASEGATE_ACTION: job.action,
    RELEASEGATE_NEEDS_MIGRATION: job.release.needsMigration ? "true" : "false",
  };
}
