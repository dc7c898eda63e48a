// Seeds the dashboard benchmark's data (bench/dashboard.ts) with bulk SQL, in one transaction, into a migrated and
// otherwise empty database, BEFORE the control plane starts. Fast: about 10,000 releases, 50,000 deployments, their
// steps and 400,000 audit events in under a minute, where the domain functions would take hours.
//
// Why not the domain functions: they stamp every audit event with the current time, and the history here spans two
// years. The audit chain's INVARIANT (occurredAt never decreases along seq, lib/audit/record-audit-event.ts) then
// leaves one order: the history's events first, hashed in time order exactly as recordAuditEvent would hash them
// (lib/audit/chain.ts), then whatever the control plane records once it runs (sign-ins). The chain verifies. The
// structure (customers, applications with the default lifecycle, people, memberships, servers) is written the same
// way, with the values the domain would write (DEFAULT_ENVIRONMENTS, slugify, argon2 password hashes); its own
// creation events are left out, as no measured page reads them.
//
// The history of an application, release by release, in the order the procedure goes: uploaded; deployed to QA
// (sometimes after failed or cancelled attempts, or redeployed); deployed to Acceptance; a customer's verdict; an
// approval; promoted to Production (sometimes failing first and rolling back), now and then reverted. Deployments
// carry their steps (stage and activate per server, a rollback where one failed) and their audit events (requested,
// started, each step, the outcome), so release pages, timelines and gates read what a real history would hold.
// The newest releases are where the work is: one in QA, two awaiting the customer's test, one rejected, one awaiting
// approval, one approved with a production deployment scheduled three days ahead (the load application only), one
// approved and ready to promote.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { CHAIN_VERSION, type ChainedEvent, GENESIS_HASH, hashEvent } from "../../lib/audit/chain";
import { hashPassword } from "../../lib/auth/password";
import { DEFAULT_ENVIRONMENTS } from "../../lib/environments/default-environments";
import { slugify } from "../../lib/util/slugify";

type ReleaseStatus = "CANDIDATE" | "ACCEPTED" | "REJECTED" | "APPROVED" | "RELEASED" | "WITHDRAWN" | "REVERTED" | "SUPERSEDED";
type DeploymentStatus = "SCHEDULED" | "SUCCEEDED" | "FAILED" | "CANCELLED";
type Role = "DEVELOPER" | "CUSTOMER" | "APPROVER" | "OPS" | "AUDITOR";

export interface ApplicationShape {
  key: string;
  name: string;
  releases: number;
  deployments: number;
  /** Servers per environment, in lifecycle order (QA, Acceptance, Production). */
  servers: [number, number, number];
  /** A production deployment scheduled ahead for the approved release (an active deployment on the dashboard). */
  scheduled: boolean;
}

export interface CustomerShape {
  name: string;
  applications: ApplicationShape[];
}

export interface PersonShape {
  key: string;
  name: string;
  email: string;
  /** A customer-side person belongs to this customer (by name). */
  customer: string | null;
  roles: { application: string; role: Role }[];
}

/** Which people play which part in an application's history (keys of PersonShape). */
export interface Cast {
  uploaders: string[];
  deployer: string;
  ops: string;
  tester: string;
  approver: string;
}

export interface SeededApplication {
  id: string;
  name: string;
  environments: { id: string; name: string }[];
  releases: number;
  deployments: number;
  steps: number;
  /** The release live in Production (the last successful deployment there). */
  liveInProduction: { id: string; version: string } | null;
  /** The newest release, deployed to Acceptance and awaiting the customer's test. */
  awaitingTest: { id: string; version: string } | null;
  /** A release that was reverted in Production (its page shows the revert). */
  reverted: { id: string; version: string } | null;
  /** How many pages of the release list (25 a page) an unfiltered list has. */
  pages: number;
}

export interface SeedResult {
  applications: Map<string, SeededApplication>;
  people: Map<string, { id: string; email: string }>;
  auditEvents: number;
  seconds: number;
}

/** A small deterministic PRNG (mulberry32), so every run seeds the same history. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** The history of every application spans this long, ending now. */
const SPAN = 600 * DAY;

// Release notes: Markdown with a title line, a few changes and ticket numbers (what the list's search reads).
const AREAS = ["checkout", "payment", "search", "catalogue", "login", "invoices", "shipping", "reports", "newsletter", "cart", "profile", "admin"];
const VERBS = ["Faster", "Fix for", "Rework of", "Accessibility in", "Logging in", "Translations for", "Security update for", "Cleanup of"];
const DETAILS = [
  "timeouts under load",
  "rounding of totals",
  "a crash when the session expires",
  "sorting by date",
  "the mobile layout",
  "retries towards the payment provider",
  "an N+1 query in the overview",
  "the German translation",
  "CSV export of large lists",
  "caching of product images",
];

function notesFor(rand: () => number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  const lines = [`## ${pick(VERBS)} ${pick(AREAS)}`, ""];
  const n = 2 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) lines.push(`- ${pick(VERBS)} ${pick(AREAS)}: ${pick(DETAILS)} (RG-${1 + Math.floor(rand() * 20_000)})`);
  if (rand() < 0.3) lines.push("", "Deploy notes: clear the CDN cache after the rollout.");
  return lines.join("\n");
}

const REJECT_REASONS = ["The checkout total is wrong for orders with vouchers.", "Login loops back to the start page.", "Search finds nothing for umlauts.", "Invoices show last month's date."];

// ── bulk insert ──────────────────────────────────────────────────────────────────────────────────────────────

/** Column kinds: how each travels as an array parameter and what the SELECT casts it to. */
type Kind = "uuid" | "text" | "int" | "bigint" | "bool" | "float" | "ts" | "jsonb" | `enum:${string}`;

interface Table {
  name: string;
  columns: [string, Kind][];
  rows: unknown[][];
}

const table = (name: string, columns: [string, Kind][]): Table => ({ name, columns, rows: [] });

async function flush(client: pg.Client, t: Table, batch = 5000): Promise<void> {
  const arrayType = (k: Kind) => (k === "uuid" ? "uuid[]" : k === "int" ? "int[]" : k === "bigint" ? "bigint[]" : k === "bool" ? "bool[]" : k === "float" ? "float8[]" : "text[]");
  const select = (k: Kind, c: string) =>
    k === "ts" ? `(${c}::timestamptz AT TIME ZONE 'UTC')` : k === "jsonb" ? `${c}::jsonb` : k.startsWith("enum:") ? `${c}::"${k.slice(5)}"` : c;
  const cols = t.columns.map(([n]) => `"${n}"`).join(", ");
  const aliases = t.columns.map((_, i) => `c${i}`);
  const sql = `INSERT INTO "${t.name}" (${cols}) SELECT ${t.columns.map(([, k], i) => select(k, aliases[i]!)).join(", ")}
    FROM unnest(${t.columns.map(([, k], i) => `$${i + 1}::${arrayType(k)}`).join(", ")}) AS x(${aliases.join(", ")})`;
  for (let base = 0; base < t.rows.length; base += batch) {
    const slice = t.rows.slice(base, base + batch);
    const params = t.columns.map((_, i) => slice.map((r) => (r[i] instanceof Date ? (r[i] as Date).toISOString() : r[i])));
    await client.query(sql, params);
  }
  t.rows.length = 0;
}

// ── the seed ─────────────────────────────────────────────────────────────────────────────────────────────────

interface EnvRow {
  id: string;
  name: string;
  position: number;
  isProduction: boolean;
  strategy: string;
  batchSize: number;
  servers: { id: string; name: string }[];
}

interface AuditDraft {
  occurredAt: Date;
  type: string;
  actorType: "USER" | "AGENT" | "SYSTEM";
  actorId: string | null;
  actorLabel: string;
  customerId: string;
  applicationId: string;
  environmentId: string | null;
  releaseId: string;
  objectType: string;
  objectId: string;
  summary: string;
  before: unknown;
  after: unknown;
}

export async function seedDashboardData(url: string, o: { customers: CustomerShape[]; people: PersonShape[]; casts: Record<string, Cast>; password: string; now?: Date }): Promise<SeedResult> {
  const started = performance.now();
  const now = o.now ?? new Date();
  const end = new Date(now.getTime() - 30 * MINUTE);
  const client = new pg.Client({ connectionString: url, application_name: "releasegate-bench-seed" });
  await client.connect();

  const T = {
    customer: table("Customer", [["id", "uuid"], ["name", "text"], ["slug", "text"], ["createdAt", "ts"], ["updatedAt", "ts"]]),
    application: table("Application", [["id", "uuid"], ["customerId", "uuid"], ["name", "text"], ["slug", "text"], ["description", "text"], ["createdAt", "ts"], ["updatedAt", "ts"]]),
    user: table("User", [["id", "uuid"], ["email", "text"], ["name", "text"], ["passwordHash", "text"], ["customerId", "uuid"], ["createdAt", "ts"], ["updatedAt", "ts"]]),
    membership: table("Membership", [["id", "uuid"], ["userId", "uuid"], ["applicationId", "uuid"], ["role", "enum:Role"], ["createdAt", "ts"]]),
    release: table("Release", [
      ["id", "uuid"], ["applicationId", "uuid"], ["version", "text"], ["notes", "text"], ["needsMigration", "bool"], ["migrationInstructions", "text"], ["status", "enum:ReleaseStatus"],
      ["artifactSha256", "text"], ["artifactSize", "bigint"], ["artifactFileName", "text"], ["artifactStorageKey", "text"], ["uploadedById", "uuid"], ["createdAt", "ts"], ["updatedAt", "ts"],
    ]),
    verdict: table("AcceptanceVerdict", [["id", "uuid"], ["releaseId", "uuid"], ["environmentId", "uuid"], ["userId", "uuid"], ["verdict", "enum:Verdict"], ["reason", "text"], ["artifactSha256", "text"], ["createdAt", "ts"]]),
    approval: table("Approval", [["id", "uuid"], ["releaseId", "uuid"], ["environmentId", "uuid"], ["userId", "uuid"], ["artifactSha256", "text"], ["comment", "text"], ["createdAt", "ts"]]),
    deployment: table("Deployment", [
      ["id", "uuid"], ["releaseId", "uuid"], ["environmentId", "uuid"], ["kind", "enum:DeploymentKind"], ["strategy", "enum:DeploymentStrategy"], ["batchSize", "int"], ["status", "enum:DeploymentStatus"],
      ["previousReleaseId", "uuid"], ["requestedById", "uuid"], ["reason", "text"], ["scheduledFor", "ts"], ["startedAt", "ts"], ["finishedAt", "ts"], ["failureReason", "text"], ["createdAt", "ts"], ["updatedAt", "ts"],
    ]),
    step: table("DeploymentStep", [
      ["id", "uuid"], ["deploymentId", "uuid"], ["targetId", "uuid"], ["action", "enum:StepAction"], ["batch", "int"], ["status", "enum:StepStatus"], ["attempt", "int"], ["phase", "text"], ["message", "text"],
      ["progress", "float"], ["startedAt", "ts"], ["finishedAt", "ts"], ["createdAt", "ts"], ["updatedAt", "ts"],
    ]),
  };

  const people = new Map<string, { id: string; email: string; name: string }>();
  const customers = new Map<string, string>();
  const applications = new Map<string, SeededApplication>();
  const audit: AuditDraft[] = [];
  const createdAt = new Date(now.getTime() - SPAN - 30 * DAY);
  try {
    await client.query("BEGIN");
    // The same lock recordAuditEvent takes: nothing else may append to the chain while it is seeded.
    await client.query("SELECT pg_advisory_xact_lock(72707371)");
    const existing = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "AuditEvent"`);
    if (Number(existing.rows[0]!.n) > 0) throw new Error("seedDashboardData needs an empty database (its history goes first in the audit chain)");

    // Structure.
    const appIds = new Map<string, { id: string; customerId: string; name: string; envs: EnvRow[] }>();
    for (const c of o.customers) {
      const customerId = randomUUID();
      customers.set(c.name, customerId);
      T.customer.rows.push([customerId, c.name, slugify(c.name), createdAt, createdAt]);
      for (const a of c.applications) {
        const id = randomUUID();
        T.application.rows.push([id, customerId, a.name, slugify(a.name), "", createdAt, createdAt]);
        appIds.set(a.key, { id, customerId, name: a.name, envs: [] });
      }
    }
    await flush(client, T.customer);
    await flush(client, T.application);
    const passwordHash = await hashPassword(o.password);
    for (const p of o.people) {
      const id = randomUUID();
      people.set(p.key, { id, email: p.email, name: p.name });
      T.user.rows.push([id, p.email, p.name, passwordHash, p.customer ? customers.get(p.customer)! : null, createdAt, createdAt]);
      for (const r of p.roles) T.membership.rows.push([randomUUID(), id, appIds.get(r.application)!.id, r.role, createdAt]);
    }
    await flush(client, T.user);
    await flush(client, T.membership);
    for (const c of o.customers) {
      for (const a of c.applications) {
        const app = appIds.get(a.key)!;
        for (const e of DEFAULT_ENVIRONMENTS) {
          const env: EnvRow = { id: randomUUID(), name: e.name, position: e.position, isProduction: e.isProduction, strategy: e.strategy, batchSize: e.batchSize, servers: [] };
          await client.query(
            `INSERT INTO "Environment" (id, "applicationId", name, slug, position, "isProduction", "requiresPreviousSuccess", "requiresAcceptance", "requiredApprovals",
               "approverRoles", "deployerRoles", strategy, "batchSize", url, "createdAt", "updatedAt")
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::"Role"[], $11::"Role"[], $12::"DeploymentStrategy", $13, $14, $15, $15)`,
            [env.id, app.id, e.name, e.slug, e.position, e.isProduction, e.requiresPreviousSuccess, e.requiresAcceptance, e.requiredApprovals, e.approverRoles, e.deployerRoles, e.strategy, e.batchSize,
              `https://${e.slug}.${slugify(a.name)}.example.test`, createdAt],
          );
          // Servers with enrolled agents (seen now; with no agent behind them they show offline 35 s later, which
          // changes a label, not the work of a page).
          const count = a.servers[e.position] ?? 1;
          for (let s = 1; s <= count; s++) {
            const server = { id: randomUUID(), name: `${e.slug === "production" ? "web" : e.slug}-${s}` };
            env.servers.push(server);
            await client.query(
              `INSERT INTO "Target" (id, "environmentId", name, status, "agentVersion", "agentHostname", "lastSeenAt", "createdAt", "updatedAt")
               VALUES ($1, $2, $3, 'ACTIVE', '0.1.0', $4, $5, $6, $5)`,
              [server.id, env.id, server.name, `${server.name}.${slugify(a.name)}.example.test`, now, createdAt],
            );
          }
          app.envs.push(env);
        }
      }
    }

    // History, application by application.
    let seedNo = 1;
    for (const c of o.customers) {
      for (const shape of c.applications) {
        const app = appIds.get(shape.key)!;
        const cast = o.casts[shape.key];
        if (!cast) throw new Error(`no cast for ${shape.key}`);
        const who = (k: string) => {
          const p = people.get(k);
          if (!p) throw new Error(`unknown person ${k}`);
          return p;
        };
        const result = planHistory({ shape, app, rand: prng(seedNo++), end, now, T, audit, cast: { uploaders: cast.uploaders.map(who), deployer: who(cast.deployer), ops: who(cast.ops), tester: who(cast.tester), approver: who(cast.approver) } });
        applications.set(shape.key, result);
        await flush(client, T.release);
        await flush(client, T.verdict);
        await flush(client, T.approval);
        await flush(client, T.deployment);
        await flush(client, T.step);
        // What the servers report running: the environment's release, except one production node still on the
        // release before it (drift, highlighted on the dashboard).
        for (const env of app.envs) {
          const live = result.liveBy.get(env.id) ?? null;
          const previous = result.previousBy.get(env.id) ?? null;
          for (const [i, s] of env.servers.entries()) {
            const drifted = env.isProduction && i === env.servers.length - 1 && env.servers.length > 1 ? (previous ?? live) : live;
            await client.query(`UPDATE "Target" SET "liveReleaseId" = $2, "stagedReleaseIds" = $3::uuid[] WHERE id = $1`, [s.id, drifted, [live, previous].filter(Boolean)]);
          }
        }
        // Past change freezes on Production (its page lists them; none is active, so no gate is closed by one).
        const prod = app.envs.find((e) => e.isProduction)!;
        for (let f = 1; f <= 3; f++) {
          const startsAt = new Date(end.getTime() - f * 60 * DAY);
          await client.query(`INSERT INTO "Freeze" (id, "environmentId", "startsAt", "endsAt", reason, "createdById", "createdAt") VALUES ($1, $2, $3, $4, $5, $6, $3)`, [
            randomUUID(), prod.id, startsAt, new Date(startsAt.getTime() + 5 * DAY), "Year-end sales: no changes", who(cast.ops).id,
          ]);
        }
      }
    }

    // The audit chain: every drafted event in time order, hashed as recordAuditEvent would, GENESIS first.
    audit.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
    const events = table("AuditEvent", [
      ["seq", "bigint"], ["id", "uuid"], ["occurredAt", "ts"], ["type", "text"], ["actorType", "enum:ActorType"], ["actorId", "text"], ["actorLabel", "text"], ["customerId", "uuid"], ["applicationId", "uuid"],
      ["environmentId", "uuid"], ["releaseId", "uuid"], ["objectType", "text"], ["objectId", "text"], ["summary", "text"], ["before", "jsonb"], ["after", "jsonb"], ["data", "jsonb"], ["ip", "text"],
      ["userAgent", "text"], ["requestId", "text"], ["prevHash", "text"], ["hash", "text"], ["chainVersion", "int"],
    ]);
    let prevHash = GENESIS_HASH;
    const total = audit.length;
    for (let i = 0; i < audit.length; i++) {
      const d = audit[i]!;
      const e: ChainedEvent = {
        seq: BigInt(i + 1),
        id: randomUUID(),
        occurredAt: d.occurredAt,
        type: d.type,
        actorType: d.actorType,
        actorId: d.actorId,
        actorLabel: d.actorLabel,
        customerId: d.customerId,
        applicationId: d.applicationId,
        environmentId: d.environmentId,
        releaseId: d.releaseId,
        objectType: d.objectType,
        objectId: d.objectId,
        summary: d.summary,
        before: (d.before ?? null) as ChainedEvent["before"],
        after: (d.after ?? null) as ChainedEvent["after"],
        data: null,
        ip: d.actorType === "USER" ? "10.0.0.7" : null,
        userAgent: d.actorType === "USER" ? "Mozilla/5.0 (bench)" : null,
        requestId: null,
        prevHash,
        chainVersion: CHAIN_VERSION,
      };
      const hash = hashEvent(e);
      prevHash = hash;
      const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
      events.rows.push([e.seq.toString(), e.id, e.occurredAt, e.type, e.actorType, e.actorId, e.actorLabel, e.customerId, e.applicationId, e.environmentId, e.releaseId, e.objectType, e.objectId,
        e.summary, json(e.before), json(e.after), null, e.ip, e.userAgent, e.requestId, e.prevHash, hash, e.chainVersion]);
      if (events.rows.length >= 20_000) await flush(client, events);
    }
    await flush(client, events);
    audit.length = 0;
    await client.query("COMMIT");
    // Fresh statistics, as autovacuum would gather them soon after a load like this.
    await client.query("VACUUM ANALYZE");
    return { applications, people: new Map([...people].map(([k, p]) => [k, { id: p.id, email: p.email }])), auditEvents: total, seconds: (performance.now() - started) / 1000 };
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
}

// ── one application's history ──────────────────────────────────────────────────────────────────────────────

type Person = { id: string; email: string; name: string };
type Fate = ReleaseStatus | "AWAITING_TEST" | "IN_QA" | "SCHEDULED" | "READY";

interface PlannedDeployment {
  env: number;
  kind: "DEPLOY" | "REVERT";
  status: DeploymentStatus;
  /** Milliseconds inside the environment's window for this release, 0..1 (ordering within the window). */
  slot: number;
}

function planHistory(ctx: {
  shape: ApplicationShape;
  app: { id: string; customerId: string; name: string; envs: EnvRow[] };
  rand: () => number;
  end: Date;
  now: Date;
  T: Record<"release" | "verdict" | "approval" | "deployment" | "step", Table>;
  audit: AuditDraft[];
  cast: { uploaders: Person[]; deployer: Person; ops: Person; tester: Person; approver: Person };
}): SeededApplication & { liveBy: Map<string, string>; previousBy: Map<string, string | null> } {
  const { shape, app, rand, T, audit, cast } = ctx;
  const n = shape.releases;
  const step = SPAN / (n + 4);
  const [qa, acc, prod] = app.envs as [EnvRow, EnvRow, EnvRow];
  // The newest releases carry the work people act on (see the header), newest first.
  const TAIL: Fate[] = ["IN_QA", "AWAITING_TEST", "AWAITING_TEST", "REJECTED", "ACCEPTED", shape.scheduled ? "SCHEDULED" : "READY", "READY"];
  const fates: Fate[] = [];
  for (let i = 0; i < n; i++) {
    const k = n - 1 - i;
    if (k < TAIL.length) {
      fates.push(TAIL[k]!);
      continue;
    }
    // The one just before the work in progress is what production runs: the list of changes since production is short.
    if (k === TAIL.length) {
      fates.push("RELEASED");
      continue;
    }
    const r = rand();
    fates.push(r < 0.78 ? "RELEASED" : r < 0.86 ? "REJECTED" : r < 0.89 ? "WITHDRAWN" : r < 0.93 ? "ACCEPTED" : r < 0.95 ? "APPROVED" : "CANDIDATE");
  }
  const reachesAcceptance = (f: Fate) => f !== "IN_QA" && f !== "WITHDRAWN" && f !== "CANDIDATE";
  const plans: PlannedDeployment[][] = fates.map((f, i) => {
    const list: PlannedDeployment[] = [];
    list.push({ env: 0, kind: "DEPLOY", status: f === "WITHDRAWN" && rand() < 0.5 ? "FAILED" : "SUCCEEDED", slot: 1 });
    if (reachesAcceptance(f) || (f === "CANDIDATE" && rand() < 0.5)) list.push({ env: 1, kind: "DEPLOY", status: "SUCCEEDED", slot: 1 });
    if (f === "RELEASED") {
      if (rand() < 0.08) list.push({ env: 2, kind: "DEPLOY", status: "FAILED", slot: 0.3 });
      list.push({ env: 2, kind: "DEPLOY", status: "SUCCEEDED", slot: 0.6 });
      if (i < n - TAIL.length - 5 && rand() < 0.03) list.push({ env: 2, kind: "REVERT", status: "SUCCEEDED", slot: 0.9 });
    }
    if (f === "SCHEDULED") list.push({ env: 2, kind: "DEPLOY", status: "SCHEDULED", slot: 0.5 });
    return list;
  });
  // Redeploys and failed or cancelled attempts in the test stages, spread over the releases, until the application
  // has its number of deployments.
  let extra = shape.deployments - plans.reduce((s, l) => s + l.length, 0);
  while (extra-- > 0) {
    const i = Math.floor(rand() * Math.max(1, n - TAIL.length));
    const list = plans[i]!;
    const env = list.some((d) => d.env === 1) && rand() < 0.35 ? 1 : 0;
    const r = rand();
    list.push({ env, kind: "DEPLOY", status: r < 0.25 ? "FAILED" : r < 0.3 ? "CANCELLED" : "SUCCEEDED", slot: rand() * 0.9 });
  }

  const liveBy = new Map<string, string>();
  const previousBy = new Map<string, string | null>();
  const releases: { id: string; version: string }[] = [];
  let deployments = 0;
  let steps = 0;
  let reverted: { id: string; version: string } | null = null;
  // Production's successful deployments in the order they took effect: each release's status follows from it below.
  const productionHistory: { releaseId: string; kind: "DEPLOY" | "REVERT" }[] = [];
  const releaseRow = new Map<string, unknown[]>();
  const scope = (envId: string | null, releaseId: string) => ({ customerId: app.customerId, applicationId: app.id, environmentId: envId, releaseId });
  const label = (p: Person) => ({ actorType: "USER" as const, actorId: p.id, actorLabel: p.email });
  const engine = { actorType: "SYSTEM" as const, actorId: null, actorLabel: "system: rollout engine" };

  for (let i = 0; i < n; i++) {
    const fate = fates[i]!;
    const created = new Date(ctx.end.getTime() - (n - i + 3) * step);
    const at = (offsetSteps: number) => new Date(created.getTime() + offsetSteps * step);
    const version = `${1 + Math.floor(i / 2000)}.${Math.floor(i / 100) % 20}.${i % 100}`;
    const id = randomUUID();
    const sha256 = randomUUID().replaceAll("-", "") + randomUUID().replaceAll("-", "");
    const status: ReleaseStatus = fate === "AWAITING_TEST" || fate === "IN_QA" ? "CANDIDATE" : fate === "SCHEDULED" || fate === "READY" ? "APPROVED" : fate;
    const uploader = cast.uploaders[i % cast.uploaders.length]!;
    const size = 20_000_000 + Math.floor(rand() * 80_000_000);
    const fileName = `${slugify(app.name)}-${version}.tar.gz`;
    const needsMigration = rand() < 0.1;
    T.release.rows.push([id, app.id, version, notesFor(rand), needsMigration, needsMigration ? "Run `bin/migrate` after the backup; it takes about two minutes." : "", status, sha256, size, fileName,
      `sha256/${sha256.slice(0, 2)}/${sha256}`, uploader.id, created, created]);
    releaseRow.set(id, T.release.rows.at(-1)!);
    releases.push({ id, version });
    audit.push({ occurredAt: created, type: "RELEASE_CREATED", ...label(uploader), ...scope(null, id), objectType: "Release", objectId: id,
      summary: `uploaded ${app.name} ${version} (${Math.round(size / 1048576)} MiB, sha256 ${sha256.slice(0, 12)}…)`, before: null, after: { fileName, size, sha256, version } });

    // Verdict after Acceptance, approval before Production (the windows below: QA 0-0.9, Acceptance 1-1.9, Production 3-3.9).
    if (["RELEASED", "ACCEPTED", "APPROVED", "SCHEDULED", "READY", "REJECTED"].includes(fate)) {
      const rejected = fate === "REJECTED";
      const reason = rejected ? REJECT_REASONS[i % REJECT_REASONS.length]! : "";
      T.verdict.rows.push([randomUUID(), id, acc.id, cast.tester.id, rejected ? "REJECTED" : "ACCEPTED", reason, sha256, at(1.95)]);
      audit.push({ occurredAt: at(1.95), type: rejected ? "RELEASE_REJECTED" : "RELEASE_ACCEPTED", ...label(cast.tester), ...scope(acc.id, id), objectType: "Release", objectId: id,
        summary: `${rejected ? "rejected" : "accepted"} ${app.name} ${version} in ${acc.name}${rejected ? `: ${reason}` : ""}`, before: { status: "CANDIDATE" }, after: { status: rejected ? "REJECTED" : "ACCEPTED", artifactSha256: sha256 } });
    }
    if (["RELEASED", "APPROVED", "SCHEDULED", "READY"].includes(fate)) {
      T.approval.rows.push([randomUUID(), id, prod.id, cast.approver.id, sha256, "", at(2.5)]);
      audit.push({ occurredAt: at(2.5), type: "RELEASE_APPROVED", ...label(cast.approver), ...scope(prod.id, id), objectType: "Release", objectId: id,
        summary: `approved ${app.name} ${version} for ${prod.name} (1 of 1: approved)`, before: { status: "ACCEPTED" }, after: { status: "APPROVED", artifactSha256: sha256 } });
    }

    const byEnv = [0, 1, 2].map((e) => plans[i]!.filter((d) => d.env === e).sort((a, b) => a.slot - b.slot));
    for (const [e, list] of byEnv.entries()) {
      const env = app.envs[e]!;
      const windowStart = [0.02, 1, 3][e]!;
      // The main deployment of each stage ends its window; earlier attempts and redeploys come before it.
      list.forEach((d, j) => {
        const did = randomUUID();
        const requester = e === 2 ? cast.ops : cast.deployer;
        const t0 = at(windowStart + ((j + 0.5) / (list.length + 0.5)) * 0.85);
        const duration = (e === 2 ? 3 * MINUTE : 40_000) + Math.floor(rand() * 20_000);
        const started = new Date(t0.getTime() + 1500);
        const finished = new Date(t0.getTime() + duration);
        const before = liveBy.get(env.id) ?? null;
        const target = d.kind === "REVERT" ? before && previousBy.get(env.id) : id;
        if (!target) return; // nothing to revert to
        const targetVersion = releases.find((r) => r.id === target)?.version ?? version;
        const failureReason = d.status === "FAILED" ? `${env.servers[0]!.name}: health check failed: HTTP 503` : d.status === "CANCELLED" ? `Stopped by ${requester.name}` : null;
        if (d.status === "SCHEDULED") {
          const scheduledFor = new Date(ctx.now.getTime() + 3 * DAY);
          const requested = new Date(ctx.now.getTime() - 2 * 60 * MINUTE);
          T.deployment.rows.push([did, id, env.id, "DEPLOY", env.strategy, env.batchSize, "SCHEDULED", before, requester.id, "Maintenance window", scheduledFor, null, null, null, requested, requested]);
          audit.push({ occurredAt: requested, type: "DEPLOYMENT_REQUESTED", ...label(requester), ...scope(env.id, id), objectType: "Deployment", objectId: did,
            summary: `requested deployment of ${version} to ${app.name} / ${env.name} at ${scheduledFor.toISOString()}`, before: null, after: { status: "SCHEDULED" } });
          deployments++;
          return;
        }
        const reason = d.kind === "REVERT" ? "Error rate doubled after the release" : "";
        T.deployment.rows.push([did, target, env.id, d.kind, env.strategy, env.batchSize, d.status, before, requester.id, reason, null, started, finished, failureReason, t0, finished]);
        deployments++;
        const what = d.kind === "REVERT" ? `revert of ${app.name} / ${env.name} to ${targetVersion}` : `deployment of ${version} to ${app.name} / ${env.name}`;
        audit.push({ occurredAt: t0, type: d.kind === "REVERT" ? "REVERT_REQUESTED" : "DEPLOYMENT_REQUESTED", ...label(requester), ...scope(env.id, target), objectType: "Deployment", objectId: did,
          summary: d.kind === "REVERT" ? `requested revert of ${app.name} / ${env.name} from ${version} to ${targetVersion}: ${reason}` : `requested deployment of ${version} to ${app.name} / ${env.name}`,
          before: null, after: { status: "QUEUED" } });
        audit.push({ occurredAt: started, type: "DEPLOYMENT_STARTED", ...engine, ...scope(env.id, target), objectType: "Deployment", objectId: did, summary: `${what} started`, before: { status: "QUEUED" }, after: { status: "RUNNING" } });
        // Steps: stage on every server, then activate one batch after another; a failure stops at the first server
        // and rolls it back; a cancelled one stops after staging.
        const stepRows: [string, string, number, string, string][] = [];
        if (d.kind === "DEPLOY") for (const s of env.servers) stepRows.push([s.id, "STAGE", 0, "SUCCEEDED", "staged"]);
        if (d.status === "SUCCEEDED") env.servers.forEach((s, k) => stepRows.push([s.id, "ACTIVATE", 1 + Math.floor(k / env.batchSize), "SUCCEEDED", "healthy"]));
        if (d.status === "FAILED") {
          stepRows.push([env.servers[0]!.id, "ACTIVATE", 1, "FAILED", "health check failed: HTTP 503"]);
          stepRows.push([env.servers[0]!.id, "ROLLBACK", 1, "SUCCEEDED", "rolled back"]);
        }
        const span = finished.getTime() - started.getTime();
        stepRows.forEach(([targetId, action, batch, stepStatus, message], k) => {
          const sFinished = new Date(started.getTime() + ((k + 1) / (stepRows.length + 1)) * span);
          const sid = randomUUID();
          T.step.rows.push([sid, did, targetId, action, batch, stepStatus, 1, "done", message, 1, new Date(sFinished.getTime() - 1000), sFinished, started, sFinished]);
          const server = env.servers.find((s) => s.id === targetId)!;
          audit.push({ occurredAt: sFinished, type: "DEPLOYMENT_STEP_FINISHED", actorType: "AGENT", actorId: targetId, actorLabel: `agent ${server.name} (${app.name} / ${env.name})`, ...scope(env.id, target),
            objectType: "DeploymentStep", objectId: sid, summary: `${server.name} ${action.toLowerCase()} ${stepStatus.toLowerCase()} ${targetVersion}${stepStatus === "FAILED" ? `: ${message}` : ""}`,
            before: { status: "RUNNING" }, after: { status: stepStatus } });
        });
        steps += stepRows.length;
        const type = ({ SUCCEEDED: "DEPLOYMENT_SUCCEEDED", FAILED: "DEPLOYMENT_FAILED", CANCELLED: "DEPLOYMENT_CANCELLED" } as const)[d.status as "SUCCEEDED" | "FAILED" | "CANCELLED"];
        audit.push({ occurredAt: finished, type, ...engine, ...scope(env.id, target), objectType: "Deployment", objectId: did,
          summary: `${what} ${d.status === "SUCCEEDED" ? "succeeded" : d.status === "FAILED" ? "failed" : "was cancelled"}${failureReason ? `: ${failureReason}` : ""}`,
          before: { status: "RUNNING" }, after: { status: d.status, artifactSha256: sha256, ...(failureReason ? { failureReason } : {}) } });
        if (d.status === "SUCCEEDED") {
          // What the deployment replaced: what a revert would return to (a revert's own row records it too).
          previousBy.set(env.id, before);
          liveBy.set(env.id, target);
          if (d.kind === "REVERT") reverted = { id, version };
          if (e === 2) productionHistory.push({ releaseId: target, kind: d.kind });
        }
      });
    }
  }
  // As the engine leaves them (lib/releases/record-production-outcome.ts): RELEASED only for what production runs;
  // a release taken out by a revert is REVERTED, one replaced by a later deployment SUPERSEDED.
  const lastArrival = new Map(productionHistory.map((h, k) => [h.releaseId, k]));
  for (const [releaseId, k] of lastArrival) {
    const next = productionHistory[k + 1];
    releaseRow.get(releaseId)![6] = !next ? "RELEASED" : next.kind === "REVERT" ? "REVERTED" : "SUPERSEDED";
  }
  const byId = new Map(releases.map((r) => [r.id, r]));
  const live = liveBy.get(prod.id);
  const awaiting = fates.lastIndexOf("AWAITING_TEST");
  return {
    id: app.id,
    name: app.name,
    environments: app.envs.map((e) => ({ id: e.id, name: e.name })),
    releases: n,
    deployments,
    steps,
    liveInProduction: live ? byId.get(live)! : null,
    awaitingTest: awaiting >= 0 ? releases[awaiting]! : null,
    reverted,
    pages: Math.max(1, Math.ceil(n / 25)),
    liveBy,
    previousBy,
  };
}
