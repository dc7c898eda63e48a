// Dashboard and release list at scale (issue 4, item 11): server time of the pages people open all day, with
// 10,000 releases and 50,000 deployments in one application. Target: p95 <= 150 ms per page.
//
// The real control plane runs as its own process (bench/lib/control-plane.ts: `scripts/start.ts` from a private
// copy of the tree, BENCH_TREE_DIR, default /tmp/rg-bench-tree-dashboard) on a scratch database seeded BEFORE it
// starts by bulk SQL (bench/lib/seed-dashboard.ts says why and what: a benchmark's shortcut, not the domain's way):
//   - the load: one application ("Webshop") with BENCH_RELEASES (10,000) releases and BENCH_DEPLOYMENTS (50,000)
//     deployments with their steps, verdicts, approvals and audit events, 1 QA, 2 acceptance and 4 production
//     servers (one drifted), a production deployment scheduled ahead: the worst case for its pages;
//   - other tenants: BENCH_OTHER_TENANTS (4) customers with one application of 500 releases and 2,500 deployments
//     each, so every query has to find the load among other tenants' rows (and ops' home page covers them all);
//   - the baseline: an application of another customer with a handful of releases (12, 30 deployments).
// People sign in over HTTP like a browser (bench/lib/browser-session.ts): ops of the load application (and of the
// other tenants' applications) open its dashboard, the release list in several filter shapes, release pages and
// their home page; its developer the dashboard, the list and home; the customer's tester the dashboard, the release
// awaiting their test and home (whose "what needs you now" reads the same releases). Three people with the same
// roles on the baseline application alone open the same pages there. Each page is requested as a browser's navigation would (GET with the session cookie, gzip
// accepted, one keep-alive connection), one request at a time: "server time" is the full response time on loopback,
// from sending the request to the last byte of the server-rendered page.
// Per run: BENCH_REQUESTS (200) requests of each page, one page after another (load pages and their baseline
// counterparts in the same run, /signin as the trivial page), after BENCH_WARMUP (20) each to warm up; p50/p95/p99
// per page, and the server's and PostgreSQL's CPU per request. BENCH_RUNS (3) runs; the summary gives medians.
// Run: npm run bench -- dashboard       Prints figures; asserts nothing. BENCH_PAGES=<regex> measures only matching
// pages; BENCH_KEEP_DB=1 keeps the seeded database (for EXPLAIN ANALYZE); BENCH_TREE_SYNC=0 reuses the built copy.
import { randomUUID } from "node:crypto";
import http from "node:http";
import os from "node:os";
import { rm } from "node:fs/promises";
import { signIn } from "./lib/browser-session";
import { type ControlPlane, serverWarnings, startControlPlane } from "./lib/control-plane";
import { type Cast, type CustomerShape, type PersonShape, seedDashboardData } from "./lib/seed-dashboard";
import { fmt, median, percentile } from "./lib/stats";
import { migrateDatabase } from "../lib/db/migrate";
import { startTestServer } from "../scripts/lib/test-database";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
const RELEASES = Number(process.env.BENCH_RELEASES ?? 10_000);
const DEPLOYMENTS = Number(process.env.BENCH_DEPLOYMENTS ?? 50_000);
const OTHER_TENANTS = Number(process.env.BENCH_OTHER_TENANTS ?? 4);
const PAGES = process.env.BENCH_PAGES ? new RegExp(process.env.BENCH_PAGES) : null;
const TARGET_P95_MS = 150;
const DB_NAME = "releasegate_test_bench_dashboard";
const say = (m: string) => console.log(`  [bench] ${m}`);

// ── the data ──────────────────────────────────────────────────────────────────────────────────────────────────

const OTHERS = ["Contoso", "Tailspin Toys", "Wingtip", "Litware", "Adatum", "Proseware", "Lucerne", "Humongous"];

function shapes(): { customers: CustomerShape[]; people: PersonShape[]; casts: Record<string, Cast> } {
  const others = Array.from({ length: OTHER_TENANTS }, (_, k) => ({ key: `other-${k}`, customer: OTHERS[k % OTHERS.length]! + (k >= OTHERS.length ? ` ${k}` : "") }));
  const customers: CustomerShape[] = [
    { name: "Northwind Retail", applications: [{ key: "load", name: "Webshop", releases: RELEASES, deployments: DEPLOYMENTS, servers: [1, 2, 4], scheduled: true }] },
    ...others.map((o) => ({ name: o.customer, applications: [{ key: o.key, name: `${o.customer} portal`, releases: 500, deployments: 2_500, servers: [1, 1, 2] as [number, number, number], scheduled: false }] })),
    { name: "Fabrikam", applications: [{ key: "small", name: "Intranet", releases: 12, deployments: 30, servers: [1, 1, 2], scheduled: false }] },
  ];
  const everyApp = ["load", ...others.map((o) => o.key)];
  const person = (key: string, name: string, customer: string | null, roles: PersonShape["roles"]): PersonShape => ({ key, name, email: `${key}@bench-dashboard.releasegate.local`, customer, roles });
  const people: PersonShape[] = [
    // Ops run every application's production, so their home page looks across all of them.
    person("ops", "Olga Ops", null, everyApp.map((application) => ({ application, role: "OPS" }))),
    person("dev", "Dana Developer", null, [{ application: "load", role: "DEVELOPER" }]),
    person("dev2", "Dirk Developer", null, everyApp.map((application) => ({ application, role: "DEVELOPER" }))),
    person("approver", "Ada Approver", null, everyApp.map((application) => ({ application, role: "APPROVER" }))),
    person("tester", "Tess Tester", "Northwind Retail", [{ application: "load", role: "CUSTOMER" }]),
    ...others.map((o) => person(`tester-${o.key}`, `Tester of ${o.customer}`, o.customer, [{ application: o.key, role: "CUSTOMER" }])),
    person("ops-small", "Oscar Ops", null, [{ application: "small", role: "OPS" }]),
    person("dev-small", "Dora Developer", null, [{ application: "small", role: "DEVELOPER" }]),
    person("approver-small", "Abe Approver", null, [{ application: "small", role: "APPROVER" }]),
    person("tester-small", "Theo Tester", "Fabrikam", [{ application: "small", role: "CUSTOMER" }]),
  ];
  const casts: Record<string, Cast> = {
    load: { uploaders: ["dev", "dev2"], deployer: "dev", ops: "ops", tester: "tester", approver: "approver" },
    small: { uploaders: ["dev-small"], deployer: "dev-small", ops: "ops-small", tester: "tester-small", approver: "approver-small" },
    ...Object.fromEntries(others.map((o) => [o.key, { uploaders: ["dev2"], deployer: "dev2", ops: "ops", tester: `tester-${o.key}`, approver: "approver" }])),
  };
  return { customers, people, casts };
}

// ── requests ──────────────────────────────────────────────────────────────────────────────────────────────────

interface Page {
  name: string;
  /** "load" pages are measured against the target; "baseline" ones are the same pages of the small application. */
  group: "load" | "baseline";
  who: string;
  path: string;
  /** Text the rendered page must contain (so an error page is never measured as a fast page). */
  marker: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One GET as a browser's navigation sends it; resolves when the last byte arrived. */
function get(url: string, cookie: string | null): Promise<{ status: number; bytes: number; body: Buffer; ms: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.get(
      url,
      {
        agent,
        headers: {
          accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
          "accept-encoding": "gzip, deflate, br",
          "accept-language": "en-GB,en;q=0.9",
          "user-agent": "Mozilla/5.0 (X11; Linux x86_64) releasegate-bench",
          ...(cookie ? { cookie } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, bytes: body.length, body, ms: performance.now() - start });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
  });
}

/** The page once without compression, to check it is the page it should be. */
async function check(base: string, page: Page, cookie: string | null): Promise<void> {
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    http.get(`${base}${page.path}`, { headers: cookie ? { cookie } : {} }, (r) => {
      let body = "";
      r.setEncoding("utf8").on("data", (c: string) => (body += c));
      r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
    }).on("error", reject);
  });
  if (res.status !== 200 || !res.body.includes(page.marker)) {
    throw new Error(`${page.name} (${page.path} as ${page.who}) answered ${res.status} without "${page.marker}": ${res.body.slice(0, 300)}`);
  }
}

interface Measured {
  times: number[];
  bytes: number;
  serverCpuMs: number;
  pgCpuMs: number;
  machineCores: number;
}

// ── main ──────────────────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  process.env.BENCH_TREE_DIR ??= "/tmp/rg-bench-tree-dashboard";
  const testServer = await startTestServer();
  let controlPlane: ControlPlane | null = null;
  try {
    console.log(`\ndashboard benchmark: ${RELEASES.toLocaleString("en")} releases and ${DEPLOYMENTS.toLocaleString("en")} deployments in one application, ${OTHER_TENANTS} other tenants; ${RUNS} runs of ${REQUESTS} requests per page after ${WARMUP} warm-up; ${os.cpus().length} cores, node ${process.version}, ${testServer.description}`);
    const url = await testServer.createDatabase(DB_NAME);
    await migrateDatabase(url);
    const password = `bench-${randomUUID()}`;
    const { customers, people, casts } = shapes();
    const seeded = await seedDashboardData(url, { customers, people, casts, password });
    for (const [key, a] of seeded.applications) {
      if (key === "load" || key === "small" || key === "other-0") say(`${a.name}: ${a.releases.toLocaleString("en")} releases, ${a.deployments.toLocaleString("en")} deployments, ${a.steps.toLocaleString("en")} steps; live in production ${a.liveInProduction?.version ?? "none"}`);
    }
    const total = [...seeded.applications.values()].reduce((s, a) => ({ r: s.r + a.releases, d: s.d + a.deployments }), { r: 0, d: 0 });
    say(`seeded ${total.r.toLocaleString("en")} releases, ${total.d.toLocaleString("en")} deployments and ${seeded.auditEvents.toLocaleString("en")} audit events in all, in ${fmt(seeded.seconds)} s`);

    controlPlane = await startControlPlane({ databaseUrl: url });
    const base = controlPlane.url;
    const cookies = new Map<string, string>();
    for (const who of ["ops", "dev", "tester", "ops-small", "dev-small", "tester-small"]) cookies.set(who, await signIn(base, seeded.people.get(who)!.email, password));

    const load = seeded.applications.get("load")!;
    const small = seeded.applications.get("small")!;
    const L = `/apps/${load.id}`;
    const S = `/apps/${small.id}`;
    const need = <T>(v: T | null, what: string): T => {
      if (v === null) throw new Error(`the seed has no ${what}`);
      return v;
    };
    const live = need(load.liveInProduction, "release live in production");
    const awaiting = need(load.awaitingTest, "release awaiting the customer's test");
    const reverted = need(load.reverted, "reverted release");
    const smallLive = need(small.liveInProduction, "release live in the baseline's production");
    const DASH = 'data-testid="environments"';
    const LIST = 'data-testid="release-count"';
    const REL = 'data-testid="release-summary"';
    const HOME = "What needs you now";
    const all: Page[] = [
      { name: "dashboard", group: "load", who: "ops", path: L, marker: DASH },
      { name: "dashboard", group: "load", who: "dev", path: L, marker: DASH },
      { name: "dashboard", group: "load", who: "tester", path: L, marker: DASH },
      { name: "releases, page 1", group: "load", who: "ops", path: `${L}/releases`, marker: LIST },
      { name: "releases, page 1", group: "load", who: "dev", path: `${L}/releases`, marker: LIST },
      { name: `releases, last page (${load.pages})`, group: "load", who: "ops", path: `${L}/releases?page=${load.pages}`, marker: `page ${load.pages} of ${load.pages}` },
      { name: "releases, status=REJECTED", group: "load", who: "ops", path: `${L}/releases?status=REJECTED`, marker: LIST },
      { name: "releases, status=CANDIDATE, page 5", group: "load", who: "ops", path: `${L}/releases?status=CANDIDATE&page=5`, marker: LIST },
      { name: "releases, search q=checkout", group: "load", who: "ops", path: `${L}/releases?q=checkout`, marker: LIST },
      { name: "releases, search q=rg-4711 (rare)", group: "load", who: "ops", path: `${L}/releases?q=rg-4711`, marker: LIST },
      { name: "releases, search by version q=2.7.", group: "load", who: "ops", path: `${L}/releases?q=2.7.`, marker: LIST },
      { name: "releases, SUPERSEDED + q=payment, page 3", group: "load", who: "ops", path: `${L}/releases?status=SUPERSEDED&q=payment&page=3`, marker: LIST },
      { name: "release page (live in production)", group: "load", who: "ops", path: `${L}/releases/${live.id}`, marker: REL },
      { name: "release page (reverted)", group: "load", who: "ops", path: `${L}/releases/${reverted.id}`, marker: REL },
      { name: "release page (awaiting test)", group: "load", who: "tester", path: `${L}/releases/${awaiting.id}`, marker: REL },
      { name: "home", group: "load", who: "ops", path: "/", marker: HOME },
      { name: "home", group: "load", who: "dev", path: "/", marker: HOME },
      { name: "home", group: "load", who: "tester", path: "/", marker: HOME },
      { name: "dashboard", group: "baseline", who: "ops-small", path: S, marker: DASH },
      { name: "dashboard", group: "baseline", who: "dev-small", path: S, marker: DASH },
      { name: "dashboard", group: "baseline", who: "tester-small", path: S, marker: DASH },
      { name: "releases, page 1", group: "baseline", who: "ops-small", path: `${S}/releases`, marker: LIST },
      { name: "release page (live in production)", group: "baseline", who: "ops-small", path: `${S}/releases/${smallLive.id}`, marker: REL },
      { name: "home", group: "baseline", who: "ops-small", path: "/", marker: HOME },
      { name: "home", group: "baseline", who: "dev-small", path: "/", marker: HOME },
      { name: "home", group: "baseline", who: "tester-small", path: "/", marker: HOME },
      { name: "/signin (trivial page, signed out)", group: "baseline", who: "nobody", path: "/signin", marker: "Sign in" },
    ];
    const pages = all.filter((p) => !PAGES || PAGES.test(`${p.group} ${p.name} ${p.who}`));
    const label = (p: Page) => `${p.group === "baseline" ? "[baseline] " : ""}${p.name} · ${p.who}`;
    for (const p of pages) await check(base, p, cookies.get(p.who) ?? null);
    say(`${pages.length} pages answer as they should; warming up`);
    for (const p of pages) for (let i = 0; i < WARMUP; i++) await get(`${base}${p.path}`, cookies.get(p.who) ?? null);

    const runs: Map<Page, Measured>[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const results = new Map<Page, Measured>();
      console.log(`\n  run ${run} of ${RUNS}: ms per request (p50 / p95 / p99), CPU per request of the server and of PostgreSQL`);
      for (const p of pages) {
        const cookie = cookies.get(p.who) ?? null;
        const times: number[] = [];
        let bytes = 0;
        const cpu0 = controlPlane.sampler.cpuSeconds();
        const pg0 = await controlPlane.sampler.pgCpuSnapshot();
        const t0 = performance.now();
        for (let i = 0; i < REQUESTS; i++) {
          const res = await get(`${base}${p.path}`, cookie);
          if (res.status !== 200) throw new Error(`${label(p)}: HTTP ${res.status}`);
          times.push(res.ms);
          bytes = res.bytes;
        }
        const t1 = performance.now();
        const serverCpuMs = ((controlPlane.sampler.cpuSeconds() - cpu0) * 1000) / REQUESTS;
        const pgCpuMs = ((await controlPlane.sampler.pgCpuSince(pg0)) * 1000) / REQUESTS;
        const samples = controlPlane.sampler.between(t0, t1);
        const machineCores = samples.reduce((s, x) => s + x.machineCores, 0) / Math.max(1, samples.length);
        results.set(p, { times, bytes, serverCpuMs, pgCpuMs, machineCores });
        console.log(
          `    ${label(p).padEnd(62)} ${fmt(percentile(times, 50)).padStart(7)} / ${fmt(percentile(times, 95)).padStart(7)} / ${fmt(percentile(times, 99)).padStart(7)} ms   cpu ${fmt(serverCpuMs).padStart(6)} + pg ${fmt(pgCpuMs).padStart(5)} ms   ${fmt(bytes / 1024)} KiB gz   machine ${fmt(machineCores, 2)} cores busy`,
        );
      }
      runs.push(results);
    }

    console.log(`\n  summary: medians of ${RUNS} runs (each ${REQUESTS} requests per page); target p95 <= ${TARGET_P95_MS} ms for the load pages`);
    console.log(`    ${"page · person".padEnd(62)} ${"p50".padStart(7)}   ${"p95".padStart(7)}   ${"p99".padStart(7)}   server CPU   pg CPU   target`);
    for (const p of pages) {
      const m = (f: (x: Measured) => number) => median(runs.map((r) => f(r.get(p)!)));
      const p95 = m((x) => percentile(x.times, 95));
      const verdict = p.group === "baseline" ? "" : p95 <= TARGET_P95_MS ? "met" : "NOT met";
      console.log(
        `    ${label(p).padEnd(62)} ${fmt(m((x) => percentile(x.times, 50))).padStart(7)}   ${fmt(p95).padStart(7)}   ${fmt(m((x) => percentile(x.times, 99))).padStart(7)}   ${fmt(m((x) => x.serverCpuMs)).padStart(7)} ms ${fmt(m((x) => x.pgCpuMs)).padStart(6)} ms   ${verdict}`,
      );
    }
    const machine = runs.flatMap((r) => [...r.values()].map((x) => x.machineCores));
    say(`whole machine during the runs: ${fmt(median(machine), 2)} of ${os.cpus().length} cores busy (median over pages; includes this benchmark and the server)`);
    const warnings = await serverWarnings(controlPlane.logFile);
    if (warnings.length) say(`the server logged ${warnings.length} warnings or errors, the first: ${warnings[0]}`);
  } finally {
    await controlPlane?.stop();
    if (controlPlane) await rm(controlPlane.dataDir, { recursive: true, force: true });
    if (process.env.BENCH_KEEP_DB === "1") say(`kept the database ${DB_NAME}`);
    else await testServer.dropDatabase(DB_NAME).catch(() => undefined);
    if (process.env.BENCH_KEEP_DB !== "1") await testServer.stop();
  }
}

await main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
