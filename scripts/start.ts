// `npm start`: the one command that runs the control plane on a fresh machine.
//   1. validates the configuration (lib/env.ts) and stops with a readable message on a bad value;
//   2. uses DATABASE_URL, or starts an embedded PostgreSQL with its data under DATA_DIR;
//   3. applies pending migrations;
//   4. builds the app when the build is missing or older than the sources (`--dev` runs Next's dev server instead);
//   5. starts the background work (server/lifecycle.ts: the first-run administrator, printed once, and the
//      periodic sweeps), then serves;
//   6. on Ctrl-C / SIGTERM stops accepting requests, stops the background work, closes the database pool, and only
//      then stops the embedded database (it runs in a session of its own, so a signal to our process group does not
//      reach it before we are done with it).
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { register } from "node:module";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../lib/db/embedded";
import { ensureAppRole } from "../lib/db/app-role";
import { migrateDatabase } from "../lib/db/migrate";
import { parseEnv } from "../lib/env";
import { NEXT_BUILD_ARGS } from "./lib/next-build";

const root = path.resolve(import.meta.dirname, "..");
const dev = process.argv.includes("--dev");
const say = (m: string) => console.log(`[releasegate] ${m}`);

async function newestMtime(dir: string): Promise<number> {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const p = path.join(entry.parentPath, entry.name);
    if (p.includes(`${path.sep}generated${path.sep}`)) continue;
    newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

async function buildIsStale(): Promise<boolean> {
  const buildId = path.join(root, ".next", "BUILD_ID");
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  const sources = await Promise.all(["app", "lib", "components", "public", "next.config.mjs"].map((p) => {
    const full = path.join(root, p);
    return existsSync(full) && statSync(full).isFile() ? statSync(full).mtimeMs : newestMtime(full);
  }));
  return Math.max(...sources) > built;
}

async function secretFile(dataDir: string, name: string): Promise<string> {
  const file = path.join(dataDir, name);
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const secret = randomBytes(32).toString("base64url");
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

async function main(): Promise<void> {
  let env;
  try {
    env = parseEnv(process.env);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
  const dataDir = path.resolve(root, env.DATA_DIR);
  await mkdir(dataDir, { recursive: true });

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir, database: "releasegate", log: say });
    databaseUrl = embedded.url;
    say(`PostgreSQL (embedded, port ${embedded.port}): data in ${embedded.dataDir}`);
  } else {
    say("PostgreSQL: using DATABASE_URL");
  }

  let stopping = false;
  // Set once the server modules are loaded: until then nothing serves and no background work runs.
  let stopServing: (() => Promise<void>) | undefined;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping`);
    await stopServing?.();
    if (embedded) {
      await embedded.stop();
      say("PostgreSQL stopped");
    }
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  const result = await migrateDatabase(databaseUrl, { dir: path.join(root, "prisma/migrations"), log: say });
  say(`database schema up to date (${result.alreadyApplied + result.applied.length} migrations)`);

  if (embedded) {
    // The server runs as a least-privilege role that cannot change audit history (lib/db/app-role.ts).
    const password = await secretFile(dataDir, "postgres-app-password");
    await ensureAppRole(databaseUrl, "releasegate_app", password);
    const appUrl = new URL(databaseUrl);
    appUrl.username = "releasegate_app";
    appUrl.password = password;
    databaseUrl = appUrl.toString();
  }
  process.env.DATABASE_URL = databaseUrl;
  // From the validated settings, where an empty value means "not set", as it does for every other variable.
  process.env.NEXTAUTH_SECRET = env.NEXTAUTH_SECRET ?? (await secretFile(dataDir, "auth-secret"));
  process.env.NEXTAUTH_URL = env.NEXTAUTH_URL ?? `http://localhost:${env.PORT}`;
  process.env.DATA_DIR = dataDir;
  process.env.NEXT_TELEMETRY_DISABLED = "1";

  if (!dev && !process.argv.includes("--no-build") && (await buildIsStale())) {
    say("building the web app (first start, or sources changed)...");
    const build = spawnSync("npx", [...NEXT_BUILD_ARGS], { cwd: root, stdio: "inherit", env: process.env });
    if (build.status !== 0) throw new Error("next build failed");
  }

  // The agent ops install on their servers, served at /downloads/releasegate-agent.mjs (agent/build.ts).
  const { buildAgent } = await import("../agent/build");
  await buildAgent();
  // esbuild keeps its service process (about 45 MB) alive for further builds; this process makes none.
  await (await import("esbuild")).stop();

  // Our own server in front of Next (server/http-server.ts): client addresses from the socket, the agent API outside
  // Next's pipeline. The domain code it loads needs `server-only` resolved as Next resolves it (server/load-hooks.mjs).
  register("../server/load-hooks.mjs", import.meta.url);
  const { createControlPlaneServer } = await import("../server/http-server");
  const { startBackgroundWork, stopControlPlane } = await import("../server/lifecycle");
  const { default: next } = await import("next");
  const app = next({ dev, dir: root, hostname: env.HOST, port: env.PORT });
  const handle = app.getRequestHandler();
  await app.prepare();
  const server = createControlPlaneServer({ trustProxy: env.TRUST_PROXY, next: (req, res) => handle(req, res) });
  stopServing = () => stopControlPlane(server, () => app.close(), say);
  await startBackgroundWork();
  await new Promise<void>((resolve) => server.listen(env.PORT, env.HOST, resolve));
  say(`ready: ${process.env.NEXTAUTH_URL}`);
  await chmod(dataDir, 0o755).catch(() => undefined);
}

main().catch((e: unknown) => {
  console.error(`[releasegate] failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
