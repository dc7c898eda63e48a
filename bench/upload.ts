// Browser upload path (issue 4, item 11): a 1 GiB release artifact through the tus endpoint of the real control plane,
// against a plain HTTP upload of the same file into a bare Node stream sink, both on loopback, in the same run.
//
// The control plane runs as its own process (bench/lib/control-plane.ts: `scripts/start.ts` from a private copy of the
// tree, BENCH_TREE_DIR, default /tmp/rg-bench-upload) on a scratch database. A developer is seeded through the domain
// and signs in over HTTP like a browser (next-auth's CSRF + credentials callback); the upload then goes as Uppy sends
// it, with the browser's chunk size (lib/storage/upload-protocol.ts: one PATCH for the whole file), each request
// carrying the session cookie, authorised, locked and written to the staging directory. For comparison, the same
// upload in 32 MiB chunks (BENCH_COMPARE_CHUNK_MIB), to show what chunking would cost.
// Both are sent by the same minimal Node HTTP client (1 MiB reads), so the figures compare the two servers; the tus
// requests are the ones Uppy's tus-js-client makes (create, then PATCHes at the server's offset).
// Baseline in the same run: one HTTP PUT of the same file, streamed by Node's http client into a separate Node process
// that pipes the request into a Writable discarding the bytes (the floor for moving bytes over loopback in Node). A
// second baseline writes them to a file instead (what the disk costs), and a third writes the same number of bytes
// from memory straight into the staging filesystem, no network at all: the most any server that stores the bytes
// there can reach, so the ceiling of the tus / bare-sink ratio on the machine. Runs alternate baseline and tus.
// Also measured: the server's RSS growth during the tus upload (its process tree, sampled every 100 ms), and the
// release form's save (completeReleaseUpload: stream the upload into the artifact store hashing it, create the
// release), called in this process on the same database and directories.
// Run: npm run bench -- upload       Prints figures; asserts nothing. BENCH_RUNS (default 3), BENCH_UPLOAD_MIB (1024),
// BENCH_CHUNK_MIB (overrides the browser's chunk size), BENCH_TREE_DIR, BENCH_TREE_SYNC=0 (reuse the built copy).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { closeSync, createReadStream, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { signIn } from "./lib/browser-session";
import { type ControlPlane, startControlPlane } from "./lib/control-plane";
import { fmt, median, percentile, row } from "./lib/stats";
import { UPLOAD_CHUNK_BYTES, UPLOADS_PATH, uploadIdFromUrl } from "../lib/storage/upload-protocol";
import { startTestServer } from "../scripts/lib/test-database";

const MiB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZE = Number(process.env.BENCH_UPLOAD_MIB ?? 1024) * 1024 * 1024;
/** What the browser sends per PATCH (lib/storage/upload-protocol.ts), at most the file. */
const CHUNK = Math.min(Number(process.env.BENCH_CHUNK_MIB ?? UPLOAD_CHUNK_BYTES / MiB) * MiB, Number(process.env.BENCH_UPLOAD_MIB ?? 1024) * MiB);
/** The comparison: the same upload in chunks of this size (what chunking would cost). */
const COMPARE_CHUNK = Number(process.env.BENCH_COMPARE_CHUNK_MIB ?? 32) * MiB;
const DB_NAME = "releasegate_test_bench_upload";
const say = (m: string) => console.log(`  [bench] ${m}`);
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

// ── the file ──────────────────────────────────────────────────────────────────────────────────────────────────

async function generateFile(file: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  const handle = await open(file, "w");
  const block = randomBytes(8 * MiB);
  try {
    for (let written = 0, n = 0; written < size; n++) {
      const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - written)));
      chunk.writeUInt32BE(n, 0); // every block differs, so nothing downstream can shortcut repeated content
      hash.update(chunk);
      await handle.write(chunk);
      written += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

// ── RSS and CPU time of a process tree ──────────────────────────────────────────────────────────────────────

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** RSS (bytes) and CPU time (utime + stime, seconds) summed over a process and its descendants. */
function treeUsage(rootPid: number): { rss: number; cpu: number } {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = readFileSync(`/proc/${e}/stat`, "utf8");
      // Fields after the command name (which may hold spaces): f[0] is field 3.
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(e), Number(f[1]));
      cpu.set(Number(e), (Number(f[11]) + Number(f[12])) / CLK_TCK);
    } catch {
      /* gone */
    }
  }
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++) for (const [pid, ppid] of parent) if (ppid === pids[i]) pids.push(pid);
  let rss = 0;
  let seconds = 0;
  for (const pid of pids) {
    seconds += cpu.get(pid) ?? 0;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      rss += m ? Number(m[1]) * 1024 : 0;
    } catch {
      /* gone */
    }
  }
  return { rss, cpu: seconds };
}

/**
 * Runs `work` while watching a server's process tree: its RSS just before and at its peak (sampled every 100 ms),
 * and the CPU time it spent. CPU time does not depend on what else the machine is doing, unlike throughput.
 */
async function observe<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; rssBefore: number; rssPeak: number; cpu: number }> {
  const start = treeUsage(pid);
  let peak = start.rss;
  const timer = setInterval(() => (peak = Math.max(peak, treeUsage(pid).rss)), 100);
  try {
    const result = await work();
    const end = treeUsage(pid);
    return { result, rssBefore: start.rss, rssPeak: Math.max(peak, end.rss), cpu: end.cpu - start.cpu };
  } finally {
    clearInterval(timer);
  }
}

// ── baseline: a bare Node sink in its own process ───────────────────────────────────────────────────────────

const SINK_SERVER = `
const http = require("node:http");
const fs = require("node:fs");
const { Writable, pipeline } = require("node:stream");
const dir = process.argv[1];
let n = 0;
http.createServer((req, res) => {
  let bytes = 0;
  const sink = req.url === "/file"
    ? fs.createWriteStream(dir + "/sink-" + (n++))
    : new Writable({ write(chunk, _e, done) { bytes += chunk.length; done(); } });
  req.on("data", (c) => { if (req.url === "/file") bytes += c.length; });
  pipeline(req, sink, (err) => {
    if (err) { res.statusCode = 500; res.end(String(err)); return; }
    res.end(String(bytes));
    if (req.url === "/file") fs.rm(sink.path, () => {});
  });
}).listen(0, "127.0.0.1", function () { process.stdout.write(String(this.address().port) + "\\n"); });
`;

/**
 * What the filesystem under the staging directory accepts at best: SIZE bytes in 1 MiB writes from memory, no
 * network, no server. No design that stores the upload there can be faster than this, so next to the bare sink it
 * is the ceiling of the tus / bare-sink ratio on this machine.
 */
function writeCeiling(dir: string): number {
  const file = path.join(dir, "write-ceiling.bin");
  const block = randomBytes(MiB);
  const fd = openSync(file, "w");
  const start = performance.now();
  try {
    for (let written = 0; written < SIZE; written += MiB) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
  const seconds = (performance.now() - start) / 1000;
  rmSync(file, { force: true });
  return SIZE / MiB / seconds;
}

async function startSink(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["-e", SINK_SERVER, dir], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim()));
    child.once("exit", (code) => reject(new Error(`sink exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/**
 * One HTTP request streaming bytes `start`..`end` (exclusive) of the file as its body: the one client both paths use,
 * so the figures compare the servers, not two client libraries.
 */
function send(url: string, method: string, headers: Record<string, string>, file: string | null, start = 0, end = SIZE) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, "content-length": String(file ? end - start : 0) } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    if (file) createReadStream(file, { start, end: end - 1, highWaterMark: 1 * MiB }).pipe(req);
    else req.end();
  });
}

/** One streamed PUT of the file; resolves with the bytes the sink counted. */
async function putFile(url: string, file: string): Promise<number> {
  const res = await send(url, "PUT", { "content-type": "application/octet-stream" }, file);
  if (res.status !== 200) throw new Error(`sink answered ${res.status}: ${res.body}`);
  return Number(res.body);
}

// ── the control plane: a developer, signed in over HTTP ─────────────────────────────────────────────────────

async function seedDeveloper() {
  const { db } = await import("../lib/db/client");
  const { toUserActor } = await import("../lib/auth/session");
  const { createCustomer } = await import("../lib/customers/create-customer");
  const { createApplication } = await import("../lib/applications/create-application");
  const { createUser } = await import("../lib/users/create-user");
  const { changeOwnPassword } = await import("../lib/users/change-own-password");
  const { grantRole } = await import("../lib/memberships/grant-role");
  const ctx = () => ({ requestId: randomUUID().slice(0, 16), ip: null, userAgent: "releasegate bench seed" });
  const actorOf = async (userId: string) => toUserActor(await db.user.findUniqueOrThrow({ where: { id: userId }, include: { memberships: true } }), null, ctx());
  const admin = await actorOf((await db.user.findFirstOrThrow({ where: { isPlatformAdmin: true }, orderBy: { createdAt: "asc" } })).id);
  const customer = await createCustomer(admin, { name: "Bench upload customer" });
  const app = await createApplication(admin, { customerId: customer.id, name: "Bench upload app", description: "" });
  const email = "dev@bench-upload.releasegate.local";
  const password = `bench-${randomUUID()}`;
  const { user, oneTimePassword } = await createUser(admin, { name: "Bench Developer", email, customerId: null, isPlatformAdmin: false });
  await changeOwnPassword(await actorOf(user.id), { currentPassword: oneTimePassword, newPassword: password, confirmPassword: password });
  await grantRole(admin, { applicationId: app.id, userId: user.id, role: "DEVELOPER" });
  return { applicationId: app.id, email, password, actor: async () => actorOf(user.id) };
}

/**
 * The tus upload as the browser makes it (creation, then PATCH requests of CHUNK bytes, each checked against the
 * offset the server answers), sent with the same HTTP client as the baseline. Resolves with the upload id.
 */
async function tusUpload(baseUrl: string, cookie: string, applicationId: string, file: string, chunk = CHUNK): Promise<string> {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const created = await send(`${baseUrl}${UPLOADS_PATH}`, "POST", {
    cookie,
    "tus-resumable": "1.0.0",
    "upload-length": String(SIZE),
    "upload-metadata": `applicationId ${b64(applicationId)},fileName ${b64(path.basename(file))}`,
  }, null);
  const id = created.status === 201 && typeof created.headers.location === "string" ? uploadIdFromUrl(created.headers.location) : null;
  if (!id) throw new Error(`creation answered ${created.status}: ${created.body}`);
  for (let offset = 0; offset < SIZE; ) {
    const end = Math.min(SIZE, offset + chunk);
    const res = await send(`${baseUrl}${UPLOADS_PATH}/${id}`, "PATCH", { cookie, "tus-resumable": "1.0.0", "upload-offset": String(offset), "content-type": "application/offset+octet-stream" }, file, offset, end);
    if (res.status !== 204 || res.headers["upload-offset"] !== String(end)) throw new Error(`PATCH at ${offset} answered ${res.status} (offset ${String(res.headers["upload-offset"])}): ${res.body}`);
    offset = end;
  }
  return id;
}

// ── main ────────────────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  process.env.BENCH_TREE_DIR ??= "/tmp/rg-bench-upload";
  const testServer = await startTestServer();
  const work = await mkdtemp(path.join(os.tmpdir(), "releasegate-bench-upload-"));
  let controlPlane: ControlPlane | null = null;
  let sink: Awaited<ReturnType<typeof startSink>> | null = null;
  try {
    console.log(`\nupload benchmark: ${fmt(SIZE / MiB, 0)} MiB, ${CHUNK >= SIZE ? "tus in one request (as the browser sends it)" : `tus chunks of ${fmt(CHUNK / MiB, 0)} MiB`}, ${RUNS} runs, ${os.cpus().length} cores, node ${process.version}, ${testServer.description}`);
    const file = path.join(work, "artifact.tar.gz");
    let t = performance.now();
    const sha256 = await generateFile(file, SIZE);
    say(`generated the file in ${fmt((performance.now() - t) / 1000)} s (sha256 ${sha256.slice(0, 12)}…)`);

    const url = await testServer.createDatabase(DB_NAME);
    controlPlane = await startControlPlane({ databaseUrl: url });
    // Domain modules read the environment when first imported: the control plane's database and data directory, so
    // the save below finds the uploads the server staged.
    process.env.DATABASE_URL = url;
    process.env.DATA_DIR = controlPlane.dataDir;
    process.env.LOG_LEVEL = "silent";
    const dev = await seedDeveloper();
    const { completeReleaseUpload } = await import("../lib/releases/complete-release-upload");
    const cookie = await signIn(controlPlane.url, dev.email, dev.password);
    sink = await startSink(work);

    const cancel = (id: string) => send(`${controlPlane!.url}${UPLOADS_PATH}/${id}`, "DELETE", { cookie, "tus-resumable": "1.0.0" }, null);
    // A first upload warms the server up (compiled routes, JIT); then what every tus request pays before its bytes:
    // session, ownership check, lock (a status request, HEAD, on that upload).
    const probe = await tusUpload(controlPlane.url, cookie, dev.applicationId, file, SIZE);
    const headTimes: number[] = [];
    for (let i = 0; i < 60; i++) {
      const s = performance.now();
      const res = await send(`${controlPlane.url}${UPLOADS_PATH}/${probe}`, "HEAD", { cookie, "tus-resumable": "1.0.0" }, null);
      if (res.status !== 200) throw new Error(`HEAD answered ${res.status}`);
      if (i >= 10) headTimes.push(performance.now() - s);
    }
    await cancel(probe);

    const baseline: number[] = [];
    const chunked: number[] = [];
    const baselineFile: number[] = [];
    const viaTus: number[] = [];
    const ratios: number[] = [];
    const rssGrowth: number[] = [];
    const sinkRssGrowth: number[] = [];
    const cpuTus: number[] = [];
    const cpuSink: number[] = [];
    const cpuFile: number[] = [];
    const saves: number[] = [];
    const ceilings: number[] = [];
    const GiB = SIZE / (1024 * MiB);
    const mbps = (seconds: number) => SIZE / MiB / seconds;
    const timed = async (work: () => Promise<unknown>) => {
      const start = performance.now();
      await work();
      return (performance.now() - start) / 1000;
    };
    for (let run = 1; run <= RUNS; run++) {
      const b = await observe(sink.child.pid!, () =>
        timed(async () => {
          const got = await putFile(`${sink!.url}/discard`, file);
          if (got !== SIZE) throw new Error(`the sink counted ${got} bytes`);
        }),
      );
      baseline.push(mbps(b.result));
      sinkRssGrowth.push(b.rssPeak - b.rssBefore);
      cpuSink.push(b.cpu / GiB);
      const f = await observe(sink.child.pid!, () => timed(() => putFile(`${sink!.url}/file`, file)));
      baselineFile.push(mbps(f.result));
      cpuFile.push(f.cpu / GiB);
      ceilings.push(writeCeiling(controlPlane.dataDir));

      const tusRun = await observe(controlPlane.pid, async () => {
        const s = performance.now();
        const id = await tusUpload(controlPlane!.url, cookie, dev.applicationId, file);
        return { id, seconds: (performance.now() - s) / 1000 };
      });
      viaTus.push(mbps(tusRun.result.seconds));
      // Paired with the baseline measured just before it: both saw the same machine.
      ratios.push(viaTus.at(-1)! / baseline.at(-1)!);
      rssGrowth.push(tusRun.rssPeak - tusRun.rssBefore);
      cpuTus.push(tusRun.cpu / GiB);

      // The same upload in chunks: what chunking would cost.
      const chunkedStart = performance.now();
      const inChunks = await tusUpload(controlPlane.url, cookie, dev.applicationId, file, COMPARE_CHUNK);
      chunked.push(mbps((performance.now() - chunkedStart) / 1000));
      await cancel(inChunks);

      const s = performance.now();
      const release = await completeReleaseUpload(await dev.actor(), { applicationId: dev.applicationId, uploadId: tusRun.result.id, version: `1.0.${run}`, sha256 });
      saves.push((performance.now() - s) / 1000);
      if (release.artifactSha256 !== sha256) throw new Error(`the release records ${release.artifactSha256}, the file is ${sha256}`);
      row(
        `run ${run}`,
        `${fmt(viaTus.at(-1)!, 0)} MiB/s`,
        `tus (${fmt(ratios.at(-1)! * 100, 0)} % of the bare sink's ${fmt(baseline.at(-1)!, 0)} MiB/s); file sink ${fmt(baselineFile.at(-1)!, 0)} MiB/s; filesystem ceiling ${fmt(ceilings.at(-1)!, 0)} MiB/s; server RSS +${fmt(rssGrowth.at(-1)! / MiB, 0)} MiB; save ${fmt(saves.at(-1)!)} s`,
      );
    }
    console.log("");
    const ratio = median(ratios);
    row("plain HTTP PUT into a bare Node sink (baseline)", `${fmt(median(baseline), 0)} MiB/s`, `median of ${RUNS}; sink CPU ${fmt(median(cpuSink), 2)} s/GiB, RSS +${fmt(Math.max(...sinkRssGrowth) / MiB, 0)} MiB`);
    row("plain HTTP PUT into a file (context)", `${fmt(median(baselineFile), 0)} MiB/s`, `sink CPU ${fmt(median(cpuFile), 2)} s/GiB: what writing the bytes costs`);
    row("filesystem write ceiling (1 MiB writes, no network)", `${fmt(median(ceilings), 0)} MiB/s`, `${fmt((median(ceilings) / median(baseline)) * 100, 0)} % of the bare sink: the most any server storing the bytes here reaches`);
    row("tus upload through the control plane", `${fmt(median(viaTus), 0)} MiB/s`, `server CPU ${fmt(median(cpuTus), 2)} s/GiB; ${plural(Math.ceil(SIZE / CHUNK), "PATCH", "PATCHes")} as the browser sends it`);
    row(`tus in ${fmt(COMPARE_CHUNK / MiB, 0)} MiB chunks, for comparison`, `${fmt(median(chunked), 0)} MiB/s`, `${Math.ceil(SIZE / COMPARE_CHUNK)} PATCHes: what chunking would cost`);
    row("per-request cost: a HEAD (session, ownership, lock)", `${fmt(median(headTimes))} ms`, `p90 ${fmt(percentile(headTimes, 90))} ms`);
    row("tus / bare sink, paired per run (median)", `${fmt(ratio * 100, 0)} %`, `target >= 60 %: ${ratio >= 0.6 ? "met" : "NOT met"}; runs ${ratios.map((r) => `${fmt(r * 100, 0)} %`).join(", ")}`);
    row("tus / filesystem ceiling (medians)", `${fmt((median(viaTus) / median(ceilings)) * 100, 0)} %`, "what the control plane keeps of what the disk allows");
    row("tus / file sink (medians)", `${fmt((median(viaTus) / median(baselineFile)) * 100, 0)} %`, "the same bytes, also written to a file");
    row("server RSS growth during the tus upload (max)", `${fmt(Math.max(...rssGrowth) / MiB, 0)} MiB`, `target <= 100 MiB: ${Math.max(...rssGrowth) <= 100 * MiB ? "met" : "NOT met"} (median ${fmt(median(rssGrowth) / MiB, 0)} MiB)`);
    row("save: hash into the store + create the release", `${fmt(median(saves))} s`, `${fmt(SIZE / MiB / median(saves), 0)} MiB/s; SHA-256 verified against the file`);
  } finally {
    sink?.child.kill();
    await controlPlane?.stop();
    if (controlPlane) await rm(controlPlane.dataDir, { recursive: true, force: true });
    await testServer.dropDatabase(DB_NAME).catch(() => undefined);
    await testServer.stop();
    await rm(work, { recursive: true, force: true });
  }
}

// The database pools (Prisma, upload locks) of the in-process save would keep the process alive.
await main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
