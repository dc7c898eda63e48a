// The fault tests' installation, every part real and in its own process: PostgreSQL (a scratch database, or a
// cluster of the test's own that it may restart), one or two control-plane instances (control-plane.ts) behind an
// HAProxy that the agents talk to, three sample-app nodes behind the site's HAProxy, each with the real bundled
// agent, and an open-model load through the site's HAProxy for the whole of each scenario. Seeded and driven
// through the domain functions (fault-domain.ts), as people would through the UI; what a test asserts is what the
// deployment page, HAProxy, the nodes and the visitors see.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
import { getServerState } from "../../agent/src/lb/haproxy";
import { migrateDatabase } from "../../lib/db/migrate";
import { startEmbeddedPostgres } from "../../lib/db/embedded";
import { createScratchDatabase, type ScratchDatabase } from "../scratch-database";
import { type ControlPlaneProcess, startControlPlaneProcess } from "./control-plane";
import type * as Domain from "./fault-domain";
import { type Fleet, startFleet, waitFor } from "./fleet";
import { freePort, haproxyAvailable, type RunningHaproxy, startHaproxy } from "./haproxy";
import { type OpenLoadSummary, startOpenLoad } from "./open-load";
import { buildSampleArtifact, type SampleArtifactOptions } from "./sample-artifact";
import { mountSmallDisk, type SmallDisk } from "./small-disk";

export type DeploymentPage = Domain.DeploymentPage;

export interface FaultRigOptions {
  name: string;
  /** Control-plane instances behind the agents' HAProxy (`balance first`: the first one up drives everything). */
  controlPlanes: 1 | 2;
  /** A PostgreSQL cluster of the test's own, which rig.postgres.restart() stops and starts (never the shared one). */
  ownPostgres?: boolean;
  /** The deploy directory of this node is a filesystem of its own of this size, which a big build fills. */
  smallDisk?: { node: string; bytes: number };
  /** Builds uploaded once the rig is up, and the one of them production runs before the test begins. */
  releases: { upload: string[]; live: string };
  /**
   * A second HAProxy in front of the same nodes (a redundant pair; runtime API on TCP), a balancer of its own in
   * Releasegate: every node is behind both, and the load goes through both.
   */
  secondBalancer?: boolean;
}

export interface FaultRig {
  workDir: string;
  databaseUrl: string;
  /** The audit signing key every instance shares; its public half is beside it (.pub.pem). */
  signingKeyPath: string;
  controlPlanes: ControlPlaneProcess[];
  /** The HAProxy in front of the control planes: the agents' --server. */
  controlPlaneBalancer: RunningHaproxy;
  /** The site's HAProxy in front of the nodes (its runtime API on a unix socket, as on most hosts). */
  site: RunningHaproxy;
  /** The second HAProxy in front of the same nodes (options.secondBalancer), or null. */
  site2: RunningHaproxy | null;
  fleet: Fleet;
  disk: SmallDisk | null;
  postgres: { restart(downMs: number): Promise<void> } | null;
  domain: typeof Domain;
  applicationId: string;
  environmentId: string;
  ops: Awaited<ReturnType<typeof Domain.personOf>>;
  /** Builds the sample app as `version` (options change its files) and uploads it; returns the release id. */
  upload(version: string, options?: SampleArtifactOptions): Promise<string>;
  /** Requests a deployment of an uploaded version to production; returns the deployment id. */
  deploy(version: string): Promise<string>;
  page(deploymentId: string): Promise<DeploymentPage>;
  waitForDeployment(deploymentId: string, timeoutMs?: number): Promise<DeploymentPage>;
  /** Resolves once `server`'s step `action` of the deployment reaches one of `statuses` (or, for "phase:x", that phase). */
  waitForStep(deploymentId: string, server: string, action: string, until: (s: { status: string; phase: string | null }) => boolean): Promise<void>;
  /**
   * Runs `during` under a 100 req/s open-model load through the site's HAProxy (and as much again through the
   * second one, if there is one: the summary counts both), with a margin before and after.
   */
  underLoad<T>(during: () => Promise<T>): Promise<{ result: T; load: OpenLoadSummary }>;
  /** A visitor's request to /slow held open for `ms` on `node` (through the site's HAProxy); resolves with its status. */
  holdRequestOn(node: string, ms: number): Promise<number>;
  /** What each node serves, asked directly. */
  nodeVersions(): Promise<Record<string, string>>;
  /** Each node's state on the site's HAProxy, read through the observer socket ("READY UP"; "READY UP / READY UP" with two). */
  balancerStates(): Promise<Record<string, string>>;
  /** HAProxy's log lines (the site's) since `from` (a length of site.log()). */
  siteLogSince(from: number): string[];
  agentLog(node: string): Promise<string>;
  stop(): Promise<void>;
}

const NODES = ["web-1", "web-2", "web-3"];

export async function startFaultRig(options: FaultRigOptions): Promise<FaultRig> {
  if (!(await haproxyAvailable())) throw new Error("HAProxy is required for the fault tests: apt-get install haproxy (.ci/run installs it).");
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), `rg-faults-${options.name}-`));
  const cleanups: (() => Promise<unknown>)[] = [];
  const savedEnv = { ...process.env };
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
    await fs.rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    // The database: the test's own cluster, or a scratch database beside the integration database.
    let databaseUrl: string;
    let postgres: FaultRig["postgres"] = null;
    if (options.ownPostgres) {
      // As root, PostgreSQL runs as the postgres user, which must reach its data directory (mkdtemp makes 0700).
      await fs.chmod(workDir, 0o755);
      const pgDir = path.join(workDir, "postgres");
      let cluster = await startEmbeddedPostgres({ dataDir: pgDir, database: "releasegate", port: await freePort() });
      cleanups.push(() => cluster.stop());
      databaseUrl = cluster.url;
      postgres = {
        async restart(downMs) {
          await cluster.stop();
          await sleep(downMs);
          cluster = await startEmbeddedPostgres({ dataDir: pgDir, database: "releasegate", port: cluster.port });
        },
      };
    } else {
      const scratch: ScratchDatabase = await createScratchDatabase(`faults_${options.name.replace(/[^a-z0-9]/g, "_")}`);
      cleanups.push(() => scratch.drop());
      databaseUrl = scratch.url;
    }
    await migrateDatabase(databaseUrl);

    const shared = {
      databaseUrl,
      artifactDir: path.join(workDir, "artifacts"),
      signingKeyPath: path.join(workDir, "audit-signing-key.pem"),
      secret: randomBytes(32).toString("base64url"),
      workDir: path.join(workDir, "control-plane"),
    };
    // This process seeds and deploys through the domain, on the same database and artifact directory.
    Object.assign(process.env, {
      DATABASE_URL: databaseUrl,
      ARTIFACT_DIR: shared.artifactDir,
      AUDIT_SIGNING_KEY_PATH: shared.signingKeyPath,
      NEXTAUTH_SECRET: shared.secret,
      DATA_DIR: shared.workDir,
      LOG_LEVEL: "silent",
    });
    const domain = await import("./fault-domain");
    cleanups.push(() => domain.db.$disconnect());

    // The first instance creates the first administrator and the audit signing key; the others start beside the
    // seeding (which finds that administrator), to keep the set-up short.
    const first = await startControlPlaneProcess("cp-1", shared);
    cleanups.push(() => first.stop());
    const others = Array.from({ length: options.controlPlanes - 1 }, (_, i) =>
      startControlPlaneProcess(`cp-${i + 2}`, shared).then((cp) => (cleanups.push(() => cp.stop()), cp)),
    );

    const ports = NODES.map(() => 0);
    for (let i = 0; i < ports.length; i++) ports[i] = await freePort();
    const site = await startHaproxy({ nodes: NODES.map((name, i) => ({ name, port: ports[i]! })), adminSocket: "unix", pinHeader: true });
    cleanups.push(() => site.stop());
    const site2 = options.secondBalancer ? await startHaproxy({ nodes: NODES.map((name, i) => ({ name, port: ports[i]! })), adminSocket: "tcp", pinHeader: true }) : null;
    if (site2) cleanups.push(() => site2.stop());

    const tag = `${options.name}-${Date.now().toString(36)}`;
    const emailDomain = `${tag}.example.test`;
    const [seeded, ...rest] = await Promise.all([
      domain.seedFleet({
        customerName: `Faults ${tag}`,
        applicationName: `Shop ${tag}`,
        password: `faults-${randomBytes(8).toString("hex")}`,
        ports: { qa: await freePort(), acceptance: await freePort(), production: ports },
        haproxy: { url: site.url, adminAddress: site.adminAddress, backend: site.backend },
        ...(site2 ? { moreBalancers: [{ name: "haproxy-2", adminAddress: site2.adminAddress, backend: site2.backend }] } : {}),
        gates: false,
        emailDomain,
      }),
      ...others,
    ]);
    const controlPlanes: ControlPlaneProcess[] = [first, ...rest];
    const controlPlaneBalancer = await startHaproxy({
      nodes: controlPlanes.map((cp) => ({ name: cp.name, port: cp.port })),
      backend: "releasegate",
      healthPath: null,
      balance: "first",
    });
    cleanups.push(() => controlPlaneBalancer.stop());
    const ops = await domain.personOf(`ops@${emailDomain}`);
    const dev = await domain.personOf(`dev@${emailDomain}`);

    let disk: SmallDisk | null = null;
    const fleetDir = path.join(workDir, "fleet");
    if (options.smallDisk) {
      disk = await mountSmallDisk(path.join(fleetDir, options.smallDisk.node), options.smallDisk.bytes);
      cleanups.push(() => disk!.unmount());
    }
    const production = seeded.nodes.filter((n) => n.environment === "production");
    const fleet = await startFleet({
      server: controlPlaneBalancer.url,
      workDir: fleetDir,
      // Stopped by the rig's cleanup, after the fleet.
      haproxy: null,
      nodes: production.map((n) => ({ name: n.name, token: n.token, port: n.port, balanced: true })),
    });
    cleanups.push(() => fleet.stop());
    for (const a of fleet.agents) await waitFor(`${a.name}'s agent to connect`, async () => (await fs.readFile(a.logFile, "utf8").catch(() => "")).includes("waiting for work"));

    const releases = new Map<string, string>();
    const page = (id: string) => domain.deploymentPage(ops, id);
    const rig: FaultRig = {
      workDir,
      databaseUrl,
      signingKeyPath: shared.signingKeyPath,
      controlPlanes,
      controlPlaneBalancer,
      site,
      site2,
      fleet,
      disk,
      postgres,
      domain,
      applicationId: seeded.applicationId,
      environmentId: seeded.environments.production,
      ops,
      async upload(version, artifactOptions = {}) {
        const file = path.join(workDir, "builds", `shop-${version}.tar.gz`);
        const artifact = await buildSampleArtifact(version, file, artifactOptions);
        const { id } = await domain.uploadRelease(dev, seeded.applicationId, version, artifact);
        releases.set(version, id);
        return id;
      },
      async deploy(version) {
        const id = releases.get(version);
        if (!id) throw new Error(`${version} was not uploaded`);
        return domain.deployRelease(ops, seeded.environments.production, id);
      },
      page,
      async waitForDeployment(id, timeoutMs = 90_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const d = await page(id);
          if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(d.status)) return d;
          if (Date.now() > deadline) throw new Error(`deployment ${id} still ${d.status} after ${timeoutMs} ms: ${describeSteps(d)}`);
          await sleep(100);
        }
      },
      async waitForStep(id, server, action, until) {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const d = await page(id);
          const step = d.servers.find((s) => s.name === server)?.steps.find((s) => s.action === action);
          if (step && until(step)) return;
          if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(d.status)) throw new Error(`deployment ended (${d.status}) before ${action} ${server} got there: ${describeSteps(d)}`);
          if (Date.now() > deadline) throw new Error(`${action} ${server} did not get there in 60 s: ${describeSteps(d)}`);
          await sleep(20);
        }
      },
      async underLoad(during) {
        const loads = [site, ...(site2 ? [site2] : [])].map((h) =>
          startOpenLoad({ url: h.url, ratePerSecond: 100, paths: ["/version", "/version", "/slow?ms=300"], keepAlive: true, maxDurationMs: 180_000 }),
        );
        await sleep(500);
        try {
          const result = await during();
          await sleep(1_000);
          return { result, load: mergeLoads(await Promise.all(loads.map((l) => l.stop()))) };
        } catch (err) {
          await Promise.all(loads.map((l) => l.stop()));
          throw err;
        }
      },
      holdRequestOn: (node, ms) =>
        fetch(`${site.url}/slow?ms=${ms}`, { headers: { "x-test-node": node } }).then(
          async (r) => (await r.text(), r.status),
          () => -1,
        ),
      async nodeVersions() {
        const out: Record<string, string> = {};
        for (const n of production) {
          const res = await fetch(`http://127.0.0.1:${n.port}/version`).catch(() => null);
          out[n.name] = res?.ok ? ((await res.json()) as { version: string }).version : `down${res ? ` (${res.status})` : ""}`;
        }
        return out;
      },
      async balancerStates() {
        const out: Record<string, string> = {};
        for (const name of NODES) {
          const states = [];
          for (const h of [site, ...(site2 ? [site2] : [])]) {
            const s = await getServerState(h.observerAddress, h.backend, name);
            states.push(`${s.adminState} ${s.operationalState}`);
          }
          out[name] = states.join(" / ");
        }
        return out;
      },
      siteLogSince: (from) => site.log().slice(from).split("\n").filter((l) => l.trim() !== ""),
      agentLog: (node) => fs.readFile(fleet.agents.find((a) => a.name === node)!.logFile, "utf8"),
      stop: cleanup,
    };
    for (const version of options.releases.upload) await rig.upload(version);
    expectSucceeded(await rig.waitForDeployment(await rig.deploy(options.releases.live)));
    return rig;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Several loads' summaries as one (the second balancer's load beside the first's). */
function mergeLoads(loads: OpenLoadSummary[]): OpenLoadSummary {
  if (loads.length === 1) return loads[0]!;
  const versionsSeen: Record<string, number> = {};
  for (const l of loads) for (const [v, n] of Object.entries(l.versionsSeen)) versionsSeen[v] = (versionsSeen[v] ?? 0) + n;
  return {
    durationMs: Math.max(...loads.map((l) => l.durationMs)),
    sent: loads.reduce((n, l) => n + l.sent, 0),
    ok: loads.reduce((n, l) => n + l.ok, 0),
    failed: loads.reduce((n, l) => n + l.failed, 0),
    failures: loads.flatMap((l) => l.failures),
    versionsSeen,
    latencyMs: { p50: Math.max(...loads.map((l) => l.latencyMs.p50)), p99: Math.max(...loads.map((l) => l.latencyMs.p99)), max: Math.max(...loads.map((l) => l.latencyMs.max)) },
    maxSendLagMs: Math.max(...loads.map((l) => l.maxSendLagMs)),
  };
}

/** What "every node back in rotation" reads as in HAProxy's runtime API, for a fleet of web-1..3. */
export const IN_ROTATION = { "web-1": "READY UP", "web-2": "READY UP", "web-3": "READY UP" };
export const onVersion = (version: string) => ({ "web-1": version, "web-2": version, "web-3": version });

/**
 * How every fault scenario must end: nobody saw a failure (at least `minSent` requests sent under the load), one
 * version everywhere, every node back in rotation.
 */
export async function expectFleetWhole(rig: FaultRig, version: string, load: OpenLoadSummary, minSent: number): Promise<void> {
  expect(load.failures, `failed requests: ${JSON.stringify(load.failures.slice(0, 5))}`).toEqual([]);
  expect(load.sent).toBeGreaterThan(minSent);
  expect(await rig.nodeVersions()).toEqual(onVersion(version));
  const both = (v: string) => (rig.site2 ? `${v} / ${v}` : v);
  expect(await rig.balancerStates()).toEqual(Object.fromEntries(Object.entries(IN_ROTATION).map(([n, v]) => [n, both(v)])));
}

/**
 * No job ran twice: one step per server and action, and one "started" line in the agents' own logs for each step that
 * started (a re-claimed job, after a lease ran out or an instance died, must not run again).
 */
export async function expectEachJobRanOnce(rig: FaultRig, deploymentId: string): Promise<void> {
  const d = await rig.page(deploymentId);
  for (const server of d.servers) {
    expect(server.steps.map((s) => s.action).sort(), server.name).toEqual([...new Set(server.steps.map((s) => s.action))].sort());
    const starts = jobStartsByStep(await rig.agentLog(server.name));
    for (const step of server.steps.filter((s) => s.startedAt !== null)) expect(starts.get(step.id), `${step.action} ${server.name} (attempt ${step.attempt})`).toBe(1);
  }
}

/** The deployment succeeded; otherwise the failure says why, or what each step did. */
export function expectSucceeded(d: DeploymentPage): void {
  expect(d.status, d.failureReason ?? describeSteps(d)).toBe("SUCCEEDED");
}

export function describeSteps(d: DeploymentPage): string {
  return d.servers.flatMap((s) => s.steps.map((st) => `${st.action} ${s.name} ${st.status}${st.phase ? ` (${st.phase})` : ""}${st.message ? `: ${st.message}` : ""}`)).join("; ");
}

/** "ACTIVATE web-1 SUCCEEDED", in the order the steps ran; the stages (which run side by side) first, by server. */
export function stepsInOrder(d: DeploymentPage): string[] {
  return d.servers
    .flatMap((s) =>
      s.steps.map((st) => ({ stage: st.action === "STAGE", at: st.startedAt?.getTime() ?? Number.MAX_SAFE_INTEGER, name: s.name, line: `${st.action} ${s.name} ${st.status}` })),
    )
    .sort((a, b) => (a.stage !== b.stage ? (a.stage ? -1 : 1) : a.stage ? a.name.localeCompare(b.name) : a.at - b.at))
    .map((x) => x.line);
}

/** Lines of an agent's log (JSON) that say a job started, per step id: each job must have run exactly once. */
export function jobStartsByStep(agentLog: string): Map<string, number> {
  const starts = new Map<string, number>();
  for (const line of agentLog.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { msg?: string; step?: string };
    if (entry.step && entry.msg?.startsWith("started ")) starts.set(entry.step, (starts.get(entry.step) ?? 0) + 1);
  }
  return starts;
}
