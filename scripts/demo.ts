// `npm run demo`: the control plane plus a local fleet on loopback, ready to deploy and revert within minutes.
//   - an embedded PostgreSQL and the control plane (as `npm start` runs it) with its data in .data/demo (fresh each run)
//   - HAProxy in front of 3 production nodes, plus 1 QA and 1 acceptance node (without HAProxy: production nodes are
//     reached directly, and the demo says how to install it)
//   - on every node a real agent (the bundled agent/dist/releasegate-agent.mjs) and the sample app (demo/sample-app)
//   - one person per role and an API token for a pipeline; Production keeps its gates (QA before it, the customer's
//     acceptance, one approval), and the history a team would have: 1.0.0 live everywhere, 1.1.0 accepted and
//     approved (ops can promote it at once), 1.2.0 just uploaded (to walk the whole procedure as five people)
// Ctrl-C stops everything: agents, apps, HAProxy, the control plane, PostgreSQL.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import net from "node:net";
import { startEmbeddedPostgres } from "../lib/db/embedded";
import { migrateDatabase } from "../lib/db/migrate";
import { type Fleet, startFleet, startFleetHaproxy } from "../test/support/fleet";
import { freePort, haproxyAvailable } from "../test/support/haproxy";
import type { RunningHaproxy } from "../test/support/haproxy";
import { buildSampleArtifact } from "../test/support/sample-artifact";
import { SERVER_NODE_ARGS } from "./lib/server-node-args";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = path.resolve(root, process.env.DEMO_DATA_DIR ?? ".data/demo");
const port = Number(process.env.DEMO_PORT ?? 3000);
const say = (m: string) => console.log(`[demo] ${m}`);
const PASSWORD = "demo-password-123";

async function waitUntilUp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not come up within ${timeoutMs / 1000} s`);
}

// Beside the data directory (which each run wipes), named so that no file of the user's is taken for it.
const pidFile = `${dataDir}.releasegate-demo.pid`;
/** The data directory as the person gave it: relative to the checkout when it is inside it, else absolute. */
const shownDataDir = path.relative(root, dataDir).startsWith("..") ? dataDir : path.relative(root, dataDir);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Claims `dataDir` for this run (exclusively: two demos started at the same moment cannot both wipe and use it), or
 * returns the pid of the demo still running on it. A pid file left by a demo that was killed outright is taken over.
 */
async function claimDataDir(): Promise<number | null> {
  await fs.mkdir(path.dirname(pidFile), { recursive: true });
  for (;;) {
    try {
      await fs.writeFile(pidFile, `${process.pid}\n`, { flag: "wx" });
      return null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number((await fs.readFile(pidFile, "utf8").catch(() => "")).trim());
      if (pid > 0 && isAlive(pid)) return pid;
      await fs.rm(pidFile, { force: true });
    }
  }
}

function portIsFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(p, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

async function main(): Promise<void> {
  // Ctrl-C in a terminal signals the whole process group; if npm's wrapper dies first, our stdout goes with it.
  // Keep shutting down cleanly rather than dying on EPIPE.
  process.stdout.on("error", () => undefined);
  process.stderr.on("error", () => undefined);
  // Each run starts from fresh data: never wipe the data of a demo that is still running on it.
  const other = await claimDataDir();
  if (other) {
    console.error(`[demo] another demo (process ${other}) is running on ${shownDataDir}. Stop it first, or run this one beside it with DEMO_DATA_DIR=.data/demo2 DEMO_PORT=3001.`);
    process.exit(1);
  }
  if (!(await portIsFree(port))) {
    await fs.rm(pidFile, { force: true });
    console.error(`[demo] port ${port} is in use, so the control plane cannot listen there. Stop what uses it, or choose another with DEMO_PORT=3001.`);
    process.exit(1);
  }
  await fs.rm(dataDir, { recursive: true, force: true });
  await fs.mkdir(dataDir, { recursive: true });
  say(`fresh demo data in ${shownDataDir}`);
  const pg = await startEmbeddedPostgres({ dataDir, database: "releasegate" });
  const cleanups: (() => Promise<unknown>)[] = [() => fs.rm(pidFile, { force: true }), () => pg.stop()];
  let controlPlane: ChildProcess | null = null;
  let fleet: Fleet | null = null;
  let haproxy: RunningHaproxy | null = null;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping the fleet, the control plane and PostgreSQL...");
    if (fleet) await fleet.stop().catch(() => undefined);
    else await haproxy?.stop().catch(() => undefined);
    if (controlPlane && controlPlane.exitCode === null) {
      const exited = new Promise((r) => controlPlane!.once("exit", r));
      controlPlane.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    say("stopped.");
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  try {
    await migrateDatabase(pg.url, { dir: path.join(root, "prisma/migrations") });
    process.env.DATABASE_URL = pg.url;
    process.env.LOG_LEVEL ??= "warn";
    const ports = { qa: await freePort(), acceptance: await freePort(), production: [await freePort(), await freePort(), await freePort()] };

    const withHaproxy = await haproxyAvailable();
    if (withHaproxy) {
      haproxy = await startFleetHaproxy(ports.production.map((p, i) => ({ name: `web-${i + 1}`, port: p })));
    } else {
      say("HAProxy is not installed, so production's 3 nodes run without a load balancer (no zero-downtime drain).");
      say("  Install it with `sudo apt-get install haproxy` (Debian/Ubuntu) or `brew install haproxy`, then run the demo again.");
    }

    const { seedFleet, signOffRelease } = await import("./lib/seed-fleet");
    const seeded = await seedFleet({
      customerName: "Acme Retail",
      applicationName: "Webshop",
      password: PASSWORD,
      ports,
      haproxy: haproxy ? { url: haproxy.url, adminAddress: haproxy.adminAddress, backend: haproxy.backend } : null,
      gates: true,
    });

    say("starting the control plane (builds the web app on the first run; about a minute)...");
    const server = `http://127.0.0.1:${port}`;
    controlPlane = spawn(process.execPath, [...SERVER_NODE_ARGS, "--import", "tsx", path.join(root, "scripts/start.ts")], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, DATABASE_URL: pg.url, DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", NEXTAUTH_URL: server, LOG_LEVEL: "warn" },
    });
    controlPlane.once("exit", (code) => {
      if (!stopping) {
        say(`the control plane exited (${code}); stopping the demo`);
        void stop(1);
      }
    });
    await waitUntilUp(`${server}/signin`, 300_000);

    fleet = await startFleet({ server, workDir: path.join(dataDir, "fleet"), haproxy, nodes: seeded.nodes.map((n) => ({ name: n.name, token: n.token, port: n.port, balanced: n.balanced })) });

    // Three releases through the pipeline API, as a build pipeline would upload them.
    const api = async (p: string, init: RequestInit) => {
      const res = await fetch(`${server}${p}`, { ...init, headers: { authorization: `Bearer ${seeded.apiToken}`, ...init.headers } });
      if (!res.ok) throw new Error(`${init.method ?? "GET"} ${p}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    const NOTES: Record<string, string> = {
      "1.0.0": "First release of the webshop.",
      "1.1.0": "## 1.1.0\n\n- Faster checkout\n- New product pages",
      "1.2.0": "## 1.2.0\n\n- Wish lists\n- Gift cards at checkout",
    };
    for (const [version, notes] of Object.entries(NOTES)) {
      const file = path.join(dataDir, "artifacts-src", `webshop-${version}.tar.gz`);
      const artifact = await buildSampleArtifact(version, file);
      const form = new FormData();
      form.set("version", version);
      form.set("notes", notes);
      form.set("sha256", artifact.sha256);
      form.set("artifact", new Blob([await fs.readFile(file)]), path.basename(file));
      await api(`/api/v1/applications/${seeded.applicationId}/releases`, { method: "POST", body: form });
    }
    const deploy = async (environment: string, release: string) => {
      const { deployment } = (await api(`/api/v1/applications/${seeded.applicationId}/deployments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ environment, release, reason: "demo setup" }),
      })) as { deployment: { id: string } };
      for (;;) {
        const { deployment: d } = (await api(`/api/v1/deployments/${deployment.id}`, { method: "GET" })) as { deployment: { finished: boolean; status: string; failureReason: string | null } };
        if (d.finished) {
          if (d.status !== "SUCCEEDED") throw new Error(`deploying ${release} to ${environment} failed: ${d.failureReason}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await new Promise((r) => setTimeout(r, 1500)); // first heartbeats: the servers show online
    say("setting up the history: 1.0.0 through QA, acceptance and sign-off to Production; 1.1.0 signed off...");
    for (const version of ["1.0.0", "1.1.0"]) {
      await deploy("qa", version);
      await deploy("acceptance", version);
      await signOffRelease({ applicationId: seeded.applicationId, version, note: "Tested in acceptance (demo setup)." });
      if (version === "1.0.0") await deploy("production", version);
    }

    const people = seeded.people.map((p) => `    ${p.role.padEnd(9)} ${p.email.padEnd(34)} ${p.password}`).join("\n");
    console.log(`
────────────────────────────────────────────────────────────────────────────────
 Releasegate demo is running.

 Control plane   ${server}
 Sign in as (every password is ${PASSWORD}):
    ADMIN     ${seeded.admin.email.padEnd(34)} ${PASSWORD}
${people}

 The webshop     production ${haproxy ? `${haproxy.url}  (HAProxy in front of web-1..3)` : `http://127.0.0.1:${ports.production[0]}/ (web-1, no load balancer)`}
                 QA         http://127.0.0.1:${ports.qa}/
                 acceptance http://127.0.0.1:${ports.acceptance}/

 Production runs 1.0.0. Release 1.1.0 was accepted by the customer and approved.
 Try it:
   1. as ops: open Webshop, promote 1.1.0 to Production, watch it roll node by node,
      then revert it (one click, with a reason).
   2. the whole procedure with 1.2.0 (uploaded, not deployed yet): the developer
      deploys it to QA and Acceptance, the customer accepts it (or rejects it with
      a reason), the approver approves it, ops promote it; the auditor opens its
      evidence page. Or, as the developer, click "Upload a release" on Webshop's page.
 A pipeline token (DEVELOPER + OPS) for the API (docs/pipeline-api.md):
    ${seeded.apiToken}

 Logs: agents in ${path.relative(root, path.join(dataDir, "fleet"))}/*.agent.log. Ctrl-C stops everything.
────────────────────────────────────────────────────────────────────────────────`);
  } catch (err) {
    console.error(`[demo] failed: ${(err as Error).message}`);
    await stop(1);
  }
}

main().catch(async (err: unknown) => {
  // Before the fleet exists (PostgreSQL would not start, say): nothing else to stop.
  await fs.rm(pidFile, { force: true }).catch(() => undefined);
  console.error(`[demo] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
