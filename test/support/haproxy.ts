// A real HAProxy for tests and the demo: a generated config in a temp dir, `haproxy -db` as a child process.
// Health checks are tuned for fast tests (inter 500 ms, fall 2, rise 1); production keeps HAProxy's defaults.
import { spawn, type ChildProcess } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { haproxyCommand } from "../../agent/src/lb/haproxy";

const CANDIDATES = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy", "/usr/bin/haproxy"];

/** The haproxy binary: $HAPROXY_BIN, the Debian path, or one on PATH; null when there is none. */
export async function findHaproxy(): Promise<string | null> {
  const fromPath = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, "haproxy"));
  for (const candidate of [process.env.HAPROXY_BIN, ...CANDIDATES, ...fromPath]) {
    if (!candidate) continue;
    try {
      await fs.access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return null;
}

export async function haproxyAvailable(): Promise<boolean> {
  return (await findHaproxy()) !== null;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; a tiny window remains before the caller binds it). */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no port"))));
    });
  });
}

export interface HaproxyNode {
  /** Server name in the backend (letters, digits, '-', '_', '.', ':'). */
  name: string;
  port: number;
  host?: string;
}

export interface StartHaproxyOptions {
  nodes: HaproxyNode[];
  frontendPort?: number;
  backend?: string;
  /** HTTP health check path (default /health); null: HAProxy only checks that the port accepts connections. */
  healthPath?: string | null;
  /** roundrobin (default), or first: every request to the first server that is up (active/standby). */
  balance?: "roundrobin" | "first";
  /**
   * A request with `X-Test-Node: <server>` goes to that server (`use-server`), so a test can hold a request open on
   * a given node. Visitors' requests (no such header) are balanced as usual.
   */
  pinHeader?: boolean;
  /** Runtime API on TCP (default, `127.0.0.1:<port>`) or on a unix socket in the temp dir. */
  adminSocket?: "tcp" | "unix";
  /** Health-check timing; the defaults make a node go UP within ~0.5 s and DOWN within ~1 s. */
  check?: { interMs?: number; fall?: number; rise?: number };
  startTimeoutMs?: number;
}

export interface RunningHaproxy {
  /** http://127.0.0.1:<frontend port> */
  url: string;
  frontendPort: number;
  /** What the agent's loadBalancer.address holds: "127.0.0.1:<port>" or the unix socket path. */
  adminAddress: string;
  /** A second runtime API socket on TCP, for a test to watch HAProxy while it takes adminAddress away. */
  observerAddress: string;
  backend: string;
  configPath: string;
  /** HAProxy's stderr so far (warnings and server state changes), for failure messages. */
  output(): string;
  /**
   * HAProxy's log so far (the config logs at level notice to stdout): server state changes as ops' log pipeline
   * receives them ("Server app/web-1 is DOWN, ..."), and no request lines. The last 256 KB.
   */
  log(): string;
  stop(): Promise<void>;
}

export async function startHaproxy(options: StartHaproxyOptions): Promise<RunningHaproxy> {
  const binary = await findHaproxy();
  if (!binary) throw new Error("haproxy is not installed (Debian: apt-get install haproxy; .ci/run installs it)");
  const backend = options.backend ?? "app";
  const healthPath = options.healthPath === undefined ? "/health" : options.healthPath;
  if (!/^[A-Za-z0-9_.:-]+$/.test(backend)) throw new Error(`invalid backend name ${backend}`);
  if (healthPath !== null && !/^\/[A-Za-z0-9_./?=&-]*$/.test(healthPath)) throw new Error(`invalid health path ${healthPath}`);
  for (const node of options.nodes) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(node.name)) throw new Error(`invalid server name ${node.name}`);
    if (!Number.isInteger(node.port) || node.port < 1 || node.port > 65535) throw new Error(`invalid port for ${node.name}`);
  }
  const inter = options.check?.interMs ?? 500;
  const fall = options.check?.fall ?? 2;
  const rise = options.check?.rise ?? 1;

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "rg-haproxy-"));
  const frontendPort = options.frontendPort ?? (await freePort());
  let adminAddress: string;
  let adminBind: string;
  if (options.adminSocket === "unix") {
    adminAddress = path.join(dir, "admin.sock");
    adminBind = adminAddress;
  } else {
    adminAddress = `127.0.0.1:${await freePort()}`;
    adminBind = `ipv4@${adminAddress}`;
  }
  const observerAddress = `127.0.0.1:${await freePort()}`;

  // No `user`/`group`/`chroot`/`daemon`: HAProxy runs as whoever starts it (root or not) in the foreground, and
  // with -db it prints server state changes ("Server app/a is DOWN ...") on stderr, which output() keeps.
  const config = [
    "global",
    `    stats socket ${adminBind} level admin`,
    `    stats socket ipv4@${observerAddress} level admin`,
    "    maxconn 2000",
    // What ops' alerting reads: server state changes are logged at notice (UP, MAINT) and alert (DOWN); request
    // lines (info) are left out.
    "    log stdout format raw local0 notice",
    "",
    "defaults",
    "    mode http",
    "    log global",
    "    retries 3",
    "    option redispatch",
    "    timeout connect 1s",
    "    timeout client 30s",
    "    timeout server 30s",
    "    timeout http-request 10s",
    "    timeout http-keep-alive 10s",
    "    timeout queue 5s",
    "    timeout check 1s",
    "",
    `frontend fe_${backend}`,
    `    bind 127.0.0.1:${frontendPort}`,
    `    default_backend ${backend}`,
    "",
    `backend ${backend}`,
    `    balance ${options.balance ?? "roundrobin"}`,
    ...(healthPath !== null ? [`    option httpchk GET ${healthPath}`, "    http-check expect status 200"] : []),
    `    default-server inter ${inter} fastinter ${inter} downinter ${inter} fall ${fall} rise ${rise}`,
    ...(options.pinHeader ? options.nodes.map((node) => `    use-server ${node.name} if { req.hdr(x-test-node) -m str ${node.name} }`) : []),
    ...options.nodes.map((node) => `    server ${node.name} ${node.host ?? "127.0.0.1"}:${node.port} check`),
    "",
  ].join("\n");
  const configPath = path.join(dir, "haproxy.cfg");
  await fs.writeFile(configPath, config);

  const child = spawn(binary, ["-f", configPath, "-db"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let log = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-64 * 1024);
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-256 * 1024);
    keep(chunk);
  });
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("error", (error) => keep(Buffer.from(`spawn failed: ${error.message}\n`)));

  const stop = async () => {
    await stopChild(child, exited);
    await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`haproxy exited during start (${child.exitCode ?? child.signalCode}):\n${output}`);
      }
      if ((await canConnect(frontendPort)) && (await runtimeApiAnswers(adminAddress)) && (await runtimeApiAnswers(observerAddress))) break;
      if (Date.now() > deadline) throw new Error(`haproxy did not start within the timeout:\n${output}`);
      await sleep(50);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return { url: `http://127.0.0.1:${frontendPort}`, frontendPort, adminAddress, observerAddress, backend, configPath, output: () => output, log: () => log, stop };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // SIGTERM = HAProxy's hard stop: it closes everything at once, which is what a test teardown wants.
  child.kill("SIGTERM");
  const timedOut = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)]);
  if (timedOut) {
    child.kill("SIGKILL");
    await exited;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function runtimeApiAnswers(address: string): Promise<boolean> {
  try {
    return (await haproxyCommand(address, "show info", { timeoutMs: 1_000 })).includes("Name: HAProxy");
  } catch {
    return false;
  }
}
