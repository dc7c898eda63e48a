// HAProxy runtime API client: what the agent runs around installing a build on a node behind HAProxy.
// Only node:net, no dependencies: the agent is bundled into one file and must not import server code.
//
// The runtime API is a line protocol on the admin "stats socket". We use its non-interactive mode: one command per
// connection, HAProxy answers and closes. A command line is split on spaces and ';' separates commands, so anything
// interpolated into one (backend and server names) is validated first.
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { plural } from "../../../lib/util/text";

export type HaproxyAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

/** An answer from HAProxy that is an error message ("No such server.", "No such backend.", "Permission denied"). */
export class HaproxyCommandError extends Error {
  constructor(
    readonly command: string,
    readonly response: string,
  ) {
    super(`HAProxy refused "${command}": ${response}`);
    this.name = "HaproxyCommandError";
  }
}

/**
 * The runtime API did not answer at all: nothing listens at the address (socket file gone, HAProxy stopped or
 * restarting), the connection broke, or no answer came in time. Unlike a HaproxyCommandError, trying again later can
 * help.
 */
export class HaproxyUnreachableError extends Error {
  constructor(
    readonly address: string,
    /** ENOENT, ECONNREFUSED, ETIMEDOUT...: what the operating system (or our timeout) said. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "HaproxyUnreachableError";
  }
}

const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
// `show stat` of a large config is a few hundred KB; anything far larger is not HAProxy talking.
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * `/run/haproxy/admin.sock` or `unix@/path` -> unix socket; `127.0.0.1:9999`, `ipv4@127.0.0.1:9999`, `[::1]:9999`,
 * `ipv6@[::1]:9999` or `haproxy-host:9999` -> TCP (HAProxy's `stats socket ipv4@127.0.0.1:9999 level admin`).
 */
export function parseHaproxyAddress(address: string): HaproxyAddress {
  const value = address.trim();
  if (value.startsWith("unix@")) return { kind: "unix", path: value.slice("unix@".length) };
  if (value.startsWith("/")) return { kind: "unix", path: value };
  const rest = value.replace(/^ipv[46]@/, "");
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(rest);
  const port = match ? Number(match[3]) : NaN;
  const host = match?.[1] ?? match?.[2];
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(
      `Invalid HAProxy runtime API address "${address}": expected a unix socket path (/run/haproxy/admin.sock) or host:port (127.0.0.1:9999)`,
    );
  }
  return { kind: "tcp", host, port };
}

/**
 * HAProxy accepts letters, digits, '-', '_', '.' and ':' in proxy and server names. Checking that here keeps a name
 * from smuggling a second command (';', newline) or extra arguments (space) into the command line.
 */
export function assertHaproxyName(what: "backend" | "server", name: string): void {
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) {
    throw new Error(
      `Invalid HAProxy ${what} name ${JSON.stringify(name)}: use letters, digits, '-', '_', '.' or ':' (1-128 characters)`,
    );
  }
}

export interface HaproxyCommandOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Sends one command and returns HAProxy's raw answer. Network failures throw; HAProxy's own errors are returned. */
export async function haproxyCommand(address: string, cmd: string, options: HaproxyCommandOptions = {}): Promise<string> {
  if (/[\r\n;]/.test(cmd) || cmd.trim() === "") {
    throw new Error(`Invalid HAProxy command ${JSON.stringify(cmd)}: one command per call, no ';' or newlines`);
  }
  const target = parseHaproxyAddress(address);
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  options.signal?.throwIfAborted();

  return await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const socket =
      target.kind === "unix" ? net.createConnection({ path: target.path }) : net.createConnection({ host: target.host, port: target.port });

    const finish = (error: Error | null, text?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(text ?? "");
    };
    const onAbort = () => finish(options.signal?.reason instanceof Error ? options.signal.reason : new Error("aborted"));
    const timer = setTimeout(
      () => finish(new HaproxyUnreachableError(address, "ETIMEDOUT", `HAProxy runtime API at ${address} did not answer "${cmd}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    options.signal?.addEventListener("abort", onAbort, { once: true });

    // Non-interactive mode: HAProxy answers this one command and closes the connection.
    socket.on("connect", () => socket.write(`${cmd}\n`));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_RESPONSE_BYTES) {
        finish(new Error(`HAProxy's answer to "${cmd}" exceeds ${MAX_RESPONSE_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    socket.on("end", () => finish(null, Buffer.concat(chunks).toString("utf8")));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      const code = error.code ? ` (${error.code})` : "";
      finish(new HaproxyUnreachableError(address, error.code ?? "EUNKNOWN", `HAProxy runtime API at ${address} is unreachable${code}: ${error.message}`, { cause: error }));
    });
  });
}

/** Runs a command whose success is an empty answer (`set server ...`); any text back is HAProxy's error message. */
async function runSetCommand(address: string, cmd: string, signal?: AbortSignal): Promise<void> {
  const response = (await haproxyCommand(address, cmd, { signal })).trim();
  if (response !== "") throw new HaproxyCommandError(cmd, response);
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/** Splits one CSV line; HAProxy quotes fields that contain commas or quotes (e.g. a check's description). */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      fields.push(field);
      field = "";
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

/** `show stat` CSV -> one record per row, keyed by the header ("# pxname,svname,qcur,qmax,scur,..."). */
export function parseShowStat(text: string): Array<Record<string, string>> {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const header = lines[0];
  if (!header?.startsWith("# ")) throw new Error(`Not a "show stat" answer: ${text.trim().slice(0, 200)}`);
  const names = parseCsvLine(header.slice(2));
  return lines.slice(1).map((line) => {
    const values = parseCsvLine(line);
    const row: Record<string, string> = {};
    names.forEach((name, i) => {
      if (name !== "") row[name] = values[i] ?? "";
    });
    return row;
  });
}

/** `show servers state` (format version 1, space-separated, "# be_id be_name srv_id srv_name ..." header). */
export function parseServersState(text: string): Array<Record<string, string>> {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const header = lines.find((line) => line.startsWith("# "));
  if (lines[0]?.trim() !== "1" || !header) throw new Error(`Not a "show servers state" answer: ${text.trim().slice(0, 200)}`);
  const names = header.slice(2).trim().split(/\s+/);
  return lines
    .filter((line) => !line.startsWith("#") && line.trim() !== "1")
    .map((line) => {
      const values = line.trim().split(/\s+/);
      const row: Record<string, string> = {};
      names.forEach((name, i) => (row[name] = values[i] ?? ""));
      return row;
    });
}

export type HaproxyAdminState = "READY" | "DRAIN" | "MAINT";
export type HaproxyOperationalState = "UP" | "DOWN" | "STARTING" | "STOPPING";

export interface HaproxyServerState {
  backend: string;
  server: string;
  /** What an operator (or we) set: READY = in rotation, DRAIN = no new traffic, MAINT = no traffic and no checks. */
  adminState: HaproxyAdminState;
  /** What the health checks decided. HAProxy keeps the last value while in MAINT. */
  operationalState: HaproxyOperationalState;
  /** `show stat`'s status column as HAProxy prints it: "UP", "DOWN", "DRAIN", "MAINT", "UP 1/2", "no check"... */
  status: string;
  /** scur: streams being served by the server now. */
  currentSessions: number;
  /** qcur: requests queued for the server. */
  queued: number;
  /** True when HAProxy health-checks the server (`check` on its line). */
  healthChecked: boolean;
  /** e.g. "L7OK", "L7STS", "L4CON"; null without health checks. A leading "* " means a check is in progress. */
  checkStatus: string | null;
  /** The HTTP status of the last HTTP check, e.g. 500; null if none. */
  checkCode: number | null;
  /** HAProxy's description of the last check, e.g. "HTTP status check returned code <3C>500<3E>". */
  checkDescription: string;
  /**
   * The health counter (0 .. rise+fall-1; src/check.c): a passing check of an UP server sets it to rise+fall-1, a
   * failing one takes one off while it is above `rise` and marks the server DOWN (0) at `rise`. Leaving MAINT sets
   * it to `rise`, so with fall > 1, rise+fall-1 after MAINT proves a check passed since. 0 in MAINT.
   */
  checkHealth: number | null;
  /** The server's `rise` and `fall` (show stat's check_rise, check_fall); null without health checks. */
  checkRise: number | null;
  checkFall: number | null;
  /** HTTP responses the server sent (hrsp_1xx..hrsp_other; cumulative since HAProxy started) and, of them, 5xx. */
  responses: number;
  http5xx: number;
  /** rtime: average response time of the last 1024 requests, ms. */
  rtimeMs: number;
}

// src/server.h: SRV_ADMF_FMAINT 0x01, IMAINT 0x02, CMAINT 0x04, FDRAIN 0x08, IDRAIN 0x10, RMAINT 0x20, HMAINT 0x40.
const ADMIN_MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const ADMIN_DRAIN_BITS = 0x08 | 0x10;
// srv_op_state: SRV_ST_STOPPED 0, STARTING 1, RUNNING 2, STOPPING 3.
const OPERATIONAL_STATES: Record<string, HaproxyOperationalState> = { "0": "DOWN", "1": "STARTING", "2": "UP", "3": "STOPPING" };
// srv_check_state: CHK_ST_ENABLED 0x04.
const CHECK_ENABLED_BIT = 0x04;

/** Combines a server's `show stat` row and its `show servers state` row. */
export function toServerState(backend: string, server: string, stat: Record<string, string>, state: Record<string, string>): HaproxyServerState {
  const admin = Number(state.srv_admin_state);
  const operational = OPERATIONAL_STATES[state.srv_op_state ?? ""];
  if (!Number.isInteger(admin) || !operational) {
    throw new Error(`Unexpected "show servers state" row for ${backend}/${server}: ${JSON.stringify(state)}`);
  }
  const healthChecked = (Number(state.srv_check_state) & CHECK_ENABLED_BIT) !== 0;
  return {
    backend,
    server,
    adminState: admin & ADMIN_MAINT_BITS ? "MAINT" : admin & ADMIN_DRAIN_BITS ? "DRAIN" : "READY",
    operationalState: operational,
    status: stat.status ?? "",
    currentSessions: toCount(stat.scur),
    queued: toCount(stat.qcur),
    healthChecked,
    checkStatus: healthChecked && stat.check_status ? stat.check_status : null,
    checkCode: healthChecked && /^\d+$/.test(stat.check_code ?? "") ? Number(stat.check_code) : null,
    checkDescription: stat.last_chk || stat.check_desc || "",
    checkHealth: healthChecked && /^\d+$/.test(state.srv_check_health ?? "") ? Number(state.srv_check_health) : null,
    checkRise: healthChecked && /^\d+$/.test(stat.check_rise ?? "") ? Number(stat.check_rise) : null,
    checkFall: healthChecked && /^\d+$/.test(stat.check_fall ?? "") ? Number(stat.check_fall) : null,
    ...responseCounters(stat),
  };
}

/** A `show stat` server row's HTTP counters: responses (every hrsp_* class), of them 5xx, and rtime. */
export function responseCounters(stat: Record<string, string>): { responses: number; http5xx: number; rtimeMs: number } {
  return {
    responses: ["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"].reduce((sum, k) => sum + toCount(stat[k]), 0),
    http5xx: toCount(stat.hrsp_5xx),
    rtimeMs: toCount(stat.rtime),
  };
}

/**
 * Every server's HTTP counters on one HAProxy, by "backend/server", in one exchange (`show stat -1 4 -1`: all
 * proxies, servers only): what the post-deploy analysis reads every second, for the node and its comparison servers.
 */
export async function readResponseCounters(address: string, options: HaproxyCommandOptions = {}): Promise<Map<string, { responses: number; http5xx: number; rtimeMs: number }>> {
  const cmd = "show stat -1 4 -1";
  const text = await haproxyCommand(address, cmd, options);
  if (!text.startsWith("# ")) throw new HaproxyCommandError(cmd, text.trim());
  return new Map(parseShowStat(text).map((row) => [`${row.pxname}/${row.svname}`, responseCounters(row)]));
}

function toCount(value: string | undefined): number {
  const n = Number(value === "" || value === undefined ? 0 : value);
  return Number.isFinite(n) ? n : 0;
}

export async function getServerState(
  address: string,
  backend: string,
  server: string,
  options: { signal?: AbortSignal } = {},
): Promise<HaproxyServerState> {
  assertHaproxyName("backend", backend);
  assertHaproxyName("server", server);
  // `show servers state` looks the name up among backends only (a frontend may share it) and yields the numeric
  // ids, which then select exactly one `show stat` row (type 4 = servers).
  const stateCmd = `show servers state ${backend}`;
  const stateText = await haproxyCommand(address, stateCmd, options);
  if (stateText.trim().split("\n")[0]?.trim() !== "1") throw new HaproxyCommandError(stateCmd, stateText.trim());
  const state = parseServersState(stateText).find((row) => row.be_name === backend && row.srv_name === server);
  if (!state) throw new HaproxyCommandError(stateCmd, `No such server. (no ${backend}/${server})`);
  if (!/^\d+$/.test(state.be_id ?? "") || !/^\d+$/.test(state.srv_id ?? "")) {
    throw new Error(`Unexpected "show servers state" row for ${backend}/${server}: ${JSON.stringify(state)}`);
  }

  const statCmd = `show stat ${state.be_id} 4 ${state.srv_id}`;
  const statText = await haproxyCommand(address, statCmd, options);
  if (!statText.startsWith("# ")) throw new HaproxyCommandError(statCmd, statText.trim());
  const stat = parseShowStat(statText).find((row) => row.pxname === backend && row.svname === server);
  if (!stat) throw new HaproxyCommandError(statCmd, `No such server. (no ${backend}/${server})`);

  return toServerState(backend, server, stat, state);
}

export async function setServerAdminState(
  address: string,
  backend: string,
  server: string,
  state: "ready" | "drain" | "maint",
  signal?: AbortSignal,
): Promise<void> {
  assertHaproxyName("backend", backend);
  assertHaproxyName("server", server);
  await runSetCommand(address, `set server ${backend}/${server} state ${state}`, signal);
}

// ---------------------------------------------------------------------------------------------------------------
// The sequence around an install

export interface ServerTarget {
  /** Runtime API address: unix socket path or host:port. */
  address: string;
  backend: string;
  server: string;
  onLog?: (line: string) => void;
  /** Told each admin state the agent sets or reads, so a failure can say where it left the server. */
  onState?: (state: HaproxyAdminState) => void;
  signal?: AbortSignal;
  /** How often to ask HAProxy while waiting. */
  pollIntervalMs?: number;
  /**
   * How long a runtime API that does not answer at all (socket file gone, HAProxy restarting) is retried before the
   * step fails. A reload recreates the socket within a second; longer than this is an outage, not a blip.
   */
  unreachableRetrySeconds?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 200;
const DEFAULT_UNREACHABLE_RETRY_SECONDS = 10;
/**
 * With `fall 1` a passing check leaves no trace in the runtime API (the health counter stays at `rise`), so after
 * MAINT the server must stay UP this long, HAProxy's default `inter`, before it is put back; its first failing check
 * would have marked it DOWN.
 */
const FALL_ONE_SETTLE_MS = 2_000;

const STATE_MEANING: Record<HaproxyAdminState, string> = {
  READY: "READY (in rotation)",
  DRAIN: "DRAIN (no new requests; HAProxy still checks it)",
  MAINT: "MAINT (no traffic)",
};

/** How a failure describes where the server was left, e.g. "app/web-2 was last seen in DRAIN (no new requests...)". */
export function describeServerState(backend: string, server: string, state: HaproxyAdminState | null): string {
  return state ? `${backend}/${server} was last seen in ${STATE_MEANING[state]}` : `the state of ${backend}/${server} is unknown`;
}

/**
 * Runs one runtime API exchange, retrying while HAProxy cannot be reached at all, for at most
 * unreachableRetrySeconds; then fails saying where the server was last seen. HAProxy's own refusals are not retried.
 */
function runtimeApi(target: ServerTarget, lastSeen: () => HaproxyAdminState | null) {
  const log = target.onLog ?? (() => {});
  const windowMs = (target.unreachableRetrySeconds ?? DEFAULT_UNREACHABLE_RETRY_SECONDS) * 1000;
  return async <T>(exchange: () => Promise<T>): Promise<T> => {
    let since: number | null = null;
    for (;;) {
      try {
        const result = await exchange();
        if (since !== null) log(`HAProxy: the runtime API at ${target.address} answers again (after ${((Date.now() - since) / 1000).toFixed(1)} s)`);
        return result;
      } catch (error) {
        if (!(error instanceof HaproxyUnreachableError)) throw error;
        target.signal?.throwIfAborted();
        const now = Date.now();
        if (since === null) {
          since = now;
          log(`HAProxy: the runtime API at ${target.address} is unreachable (${error.code}); retrying for up to ${windowMs / 1000} s`);
        }
        if (now - since >= windowMs) {
          throw new HaproxyUnreachableError(
            target.address,
            error.code,
            `HAProxy's runtime API at ${target.address} could not be reached for ${Math.round((now - since) / 1000)} s (${error.code}); ` +
              `${describeServerState(target.backend, target.server, lastSeen())}`,
            { cause: error },
          );
        }
        await sleep(Math.min(500, target.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS), undefined, { signal: target.signal });
      }
    }
  };
}

/** Keeps the admin state last set or read, and tells target.onState. */
function stateTracker(target: ServerTarget) {
  let last: HaproxyAdminState | null = null;
  return {
    get: () => last,
    set: (state: HaproxyAdminState) => {
      last = state;
      target.onState?.(state);
    },
  };
}

export interface DrainResult {
  /** False when the timeout passed with sessions still open (the server went to MAINT anyway). */
  drained: boolean;
  waitedMs: number;
  /** scur + qcur when we stopped waiting. */
  remaining: number;
}

/**
 * Takes the server out of rotation without cutting requests: DRAIN (no new requests; the ones in flight finish;
 * health checks go on) -> wait until scur and qcur reach 0, at most drainTimeoutSeconds -> MAINT (no traffic, no
 * checks), so nothing reaches the app while it is stopped and replaced.
 *
 * A request HAProxy is still sending when the timeout passes is cut when the app stops: that is logged, not thrown,
 * because a stuck client must not block a rollout forever. On abort the server stays where it was (DRAIN or MAINT).
 */
export async function drainServer(options: ServerTarget & { drainTimeoutSeconds: number }): Promise<DrainResult> {
  const { address, backend, server, signal } = options;
  const log = options.onLog ?? (() => {});
  const name = `${backend}/${server}`;
  const interval = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const seen = stateTracker(options);
  const api = runtimeApi(options, seen.get);
  const started = Date.now();

  const before = await api(() => getServerState(address, backend, server, { signal }));
  seen.set(before.adminState);
  if (before.adminState === "MAINT") {
    log(`HAProxy: ${name} is already in MAINT; nothing to drain`);
    return { drained: true, waitedMs: 0, remaining: 0 };
  }
  await api(() => setServerAdminState(address, backend, server, "drain", signal));
  seen.set("DRAIN");
  log(`HAProxy: ${name} set to DRAIN (${plural(before.currentSessions, "session")}, ${before.queued} queued)`);

  const deadline = started + options.drainTimeoutSeconds * 1000;
  let remaining = 0;
  let lastReport = 0;
  for (;;) {
    const now = await api(() => getServerState(address, backend, server, { signal }));
    seen.set(now.adminState);
    remaining = now.currentSessions + now.queued;
    if (remaining === 0) break;
    if (Date.now() >= deadline) break;
    if (Date.now() - lastReport >= 1000) {
      log(`HAProxy: waiting for ${plural(now.currentSessions, "session")} and ${plural(now.queued, "queued request")} on ${name} to finish`);
      lastReport = Date.now();
    }
    await sleep(interval, undefined, { signal });
  }
  const waitedMs = Date.now() - started;
  if (remaining > 0) {
    log(
      `HAProxy: ${name} still has ${plural(remaining, "session")} after ${options.drainTimeoutSeconds} s; continuing (they are cut when the app stops)`,
    );
  } else {
    log(`HAProxy: ${name} drained in ${waitedMs} ms`);
  }
  await api(() => setServerAdminState(address, backend, server, "maint", signal));
  seen.set("MAINT");
  log(`HAProxy: ${name} set to MAINT`);
  return { drained: remaining === 0, waitedMs, remaining };
}

/**
 * Puts the server back into rotation once a health check HAProxy ran itself, after the app was replaced, passed;
 * throws if none does within upTimeoutSeconds (the server is then left in MAINT, out of rotation).
 *
 * Why not straight to READY: HAProxy marks a server leaving MAINT as UP at once, before checking it ("start OK but
 * check immediately" in src/server.c), so it would get traffic while the app may not answer HAProxy, and "UP" would
 * prove nothing. Why not `set server ... health down` / `health up` to force the question (what this did before):
 * HAProxy logs "Server ... is DOWN, changed from CLI" for every node of every rollout, and ops alert on DOWN events.
 *
 * So: DRAIN (leaves MAINT; HAProxy checks the server again but sends it no new requests; its health counter starts
 * at `rise`) -> wait until the counter reaches rise+fall-1, which only a passing check does -> READY. A failing
 * check marks it DOWN, rightly: it is broken, and stays out of rotation. The agent has just proved the build healthy
 * on the node itself (checkHealth, with the version), so one passing check by HAProxy proves HAProxy reaches it
 * too; HAProxy's `rise` does not apply to a server leaving MAINT.
 */
export async function readyServer(options: ServerTarget & { upTimeoutSeconds: number }): Promise<{ waitedMs: number }> {
  const { address, backend, server, signal } = options;
  const log = options.onLog ?? (() => {});
  const name = `${backend}/${server}`;
  const interval = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const seen = stateTracker(options);
  const api = runtimeApi(options, seen.get);
  const started = Date.now();
  const deadline = started + options.upTimeoutSeconds * 1000;

  const before = await api(() => getServerState(address, backend, server, { signal }));
  seen.set(before.adminState);
  if (!before.healthChecked) {
    await api(() => setServerAdminState(address, backend, server, "ready", signal));
    seen.set("READY");
    log(`HAProxy: ${name} set to READY; HAProxy does not health-check it, so only the agent's own health check vouches for it`);
    return { waitedMs: Date.now() - started };
  }
  if (before.adminState === "READY" && passedCheck(before, null)) {
    log(`HAProxy: ${name} is already READY and UP`);
    return { waitedMs: 0 };
  }
  let leftMaintAt: number | null = null;
  if (before.adminState === "MAINT") {
    await api(() => setServerAdminState(address, backend, server, "drain", signal));
    seen.set("DRAIN");
    leftMaintAt = Date.now();
    log(`HAProxy: ${name} out of MAINT into DRAIN (no new requests yet); waiting for HAProxy's own health check to pass`);
  }

  let last = before;
  for (;;) {
    last = await api(() => getServerState(address, backend, server, { signal }));
    seen.set(last.adminState);
    if (passedCheck(last, leftMaintAt)) break;
    if (Date.now() >= deadline) {
      if (last.adminState !== "READY") {
        await api(() => setServerAdminState(address, backend, server, "maint", signal));
        seen.set("MAINT");
      }
      const what = isUp(last) ? `ran no passing health check of ${name} within ${options.upTimeoutSeconds} s of it leaving MAINT` : `did not report ${name} UP within ${options.upTimeoutSeconds} s`;
      throw new Error(
        `HAProxy ${what}: status ${last.status}, last health check ` +
          `${last.checkStatus ?? "none"}${last.checkCode !== null ? ` ${last.checkCode}` : ""}` +
          `${last.checkDescription ? ` (${last.checkDescription})` : ""}` +
          (last.adminState !== "READY" ? "; the server is left in MAINT" : ""),
      );
    }
    await sleep(interval, undefined, { signal });
  }
  if (last.adminState !== "READY") {
    await api(() => setServerAdminState(address, backend, server, "ready", signal));
    seen.set("READY");
  }
  const waitedMs = Date.now() - started;
  log(`HAProxy: ${name} passed HAProxy's own health check (${last.checkStatus ?? "ok"}); READY after ${waitedMs} ms`);
  return { waitedMs };
}

/**
 * Whether HAProxy itself has found the server healthy since `leftMaintAt` (null: it was not in MAINT, its checks ran
 * all along). See readyServer and HaproxyServerState.checkHealth.
 */
function passedCheck(state: HaproxyServerState, leftMaintAt: number | null): boolean {
  if (!isUp(state)) return false;
  const { checkHealth: health, checkRise: rise, checkFall: fall } = state;
  if (health === null || rise === null || fall === null) return true;
  if (fall > 1) return health >= rise + fall - 1;
  return leftMaintAt === null || Date.now() - leftMaintAt >= FALL_ONE_SETTLE_MS;
}

function isUp(state: HaproxyServerState): boolean {
  // STARTING = passed its checks and warming up under `slowstart`: it takes traffic.
  return state.operationalState === "UP" || state.operationalState === "STARTING";
}
