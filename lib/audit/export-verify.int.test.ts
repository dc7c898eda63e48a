// A real NDJSON export, made by exportAuditEvents (the lines PostgreSQL rows are turned into for the download),
// verifies offline with the real `npm run audit:verify -- --export` and only the public key. A complete export signs
// the head of the chain first, with the server's own key (as the checkpoint timer does): every test here signs its
// checkpoints with that key too.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemActor } from "../auth/actor";
import { toUserActor } from "../auth/session";
import { migrateDatabase } from "../db/migrate";
import { PrismaClient } from "../db/generated/client";
import { createScratchDatabase, type ScratchDatabase } from "../../test/scratch-database";
import { auditSigningKey, createCheckpoint } from "./create-checkpoint";
import { type ChainedEvent, GENESIS_HASH, hashEvent } from "./chain";
import { csvHeader, csvLine, eventLine, parseExportLine } from "./export-format";
import { exportAuditEvents } from "./export-audit-events";
import { readEvents, type RawQuery } from "./event-rows";
import { recordAuditEvent } from "./record-audit-event";
import type { SigningKey } from "./signing-key";
import type { TAuditFilter } from "./audit-filter";
import type { UserActor } from "../auth/actor";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
type Database = { pool: pg.Pool; prisma: PrismaClient };
const global = globalThis as unknown as { releasegateDatabase?: Database };

let scratch: ScratchDatabase;
let pool: pg.Pool;
let client: PrismaClient;
let previous: Database | undefined;
let dir: string;

beforeEach(async () => {
  scratch = await createScratchDatabase("exportverify");
  await migrateDatabase(scratch.url);
  pool = new pg.Pool({ connectionString: scratch.url, max: 2 });
  client = new PrismaClient({ adapter: new PrismaPg(pool) });
  // exportAuditEvents reads through the process's one client (lib/db/client.ts, cached on globalThis): point it at
  // this scratch database, whose chain and checkpoints this test alone controls.
  previous = global.releasegateDatabase;
  global.releasegateDatabase = { pool, prisma: client };
  dir = await mkdtemp(path.join(os.tmpdir(), "releasegate-export-test-"));
}, 60_000);

afterEach(async () => {
  global.releasegateDatabase = previous;
  await client.$disconnect();
  await pool.end();
  await scratch.drop();
  await rm(dir, { recursive: true, force: true });
});

const admin = toUserActor(
  { id: "00000000-0000-4000-8000-000000000001", email: "admin@example.test", name: "Admin", isPlatformAdmin: true, customerId: null, mustChangePassword: false, memberships: [] },
  null,
  { requestId: "export-test", ip: null, userAgent: null },
);

/** The export exportAuditEvents streams for `actor`, as text. */
async function download(actor: UserActor, format: "ndjson" | "csv", filter: TAuditFilter = {}): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await exportAuditEvents(actor, filter, format)) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** The real `npm run audit:verify` with the key's public half; exit code and everything it printed. */
async function verifyCommand(key: SigningKey, args: string[]): Promise<{ code: number; out: string }> {
  const keyFile = path.join(dir, "public.pem");
  await writeFile(keyFile, key.publicKeyPem);
  try {
    const { stdout } = await run("npx", ["--no-install", "tsx", "scripts/audit-verify.ts", "--public-key", keyFile, ...args], { cwd: root });
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: `${err.stdout}${err.stderr}` };
  }
}

async function writeEvents(n: number, scope: { customerId?: string; applicationId?: string } = {}, label = "event"): Promise<void> {
  for (let i = 0; i < n; i++) {
    await client.$transaction((tx) =>
      recordAuditEvent(tx, systemActor("export test"), {
        type: "CUSTOMER_UPDATED",
        object: { type: "Customer", id: `c-${i}` },
        scope,
        summary: `${label} ${i}`,
        after: { name: `${label} ${i}` },
      }),
    );
  }
}

/** Runs SQL as the database owner with the append-only triggers off: what a rogue administrator could do. */
async function asSuperuser(sql: string): Promise<void> {
  await scratch.query(`BEGIN; ALTER TABLE "AuditEvent" DISABLE TRIGGER USER; ALTER TABLE "AuditCheckpoint" DISABLE TRIGGER USER; ${sql};
    ALTER TABLE "AuditEvent" ENABLE TRIGGER USER; ALTER TABLE "AuditCheckpoint" ENABLE TRIGGER USER; COMMIT`);
}

it("an export of a database whose newest events were deleted fails verification at the same event as the database check", async () => {
  const key = await auditSigningKey();
  await writeEvents(6);
  await createCheckpoint({ client, key });
  await writeEvents(4);
  await createCheckpoint({ client, key });
  // Events 9 and 10 go; checkpoint 2, which signed them, stays.
  await asSuperuser(`DELETE FROM "AuditEvent" WHERE "seq" >= 9`);
  const database = await verifyCommand(key, ["--database-url", scratch.url]);
  expect(database.code).toBe(1);
  expect(database.out).toContain("FAIL event 9: missing; checkpoint 2 signed the chain up to event 10 (events were deleted from the end)");

  const text = await download(admin, "ndjson");
  const lines = text.trimEnd().split("\n").map(parseExportLine);
  expect(lines.filter((l) => l.kind === "checkpoint").map((l) => l.kind === "checkpoint" && l.checkpoint.lastSeq)).toEqual([6n, 10n]);
  const file = path.join(dir, "cut.ndjson");
  await writeFile(file, text);
  const exported = await verifyCommand(key, ["--export", file]);
  expect(exported.code).toBe(1);
  expect(exported.out).toContain("FAIL event 9: missing; the file ends at event 8 but checkpoint 2 signed the chain through event 10: events were cut");
  for (const r of [database, exported]) expect(r.out).toContain("first bad sequence number: 9\n(8 events verified before it)");
});

it("verifies a complete export offline, and its lines read back as the stored events", async () => {
  const key = await auditSigningKey();
  // Text that needs JSON escaping, CSV quoting or formula neutralising, and JSON columns of every shape.
  const awkward = [`plain`, `"quotes" and \\ backslash`, `line\nbreak\ttab \u0001 control`, `unicode é 😀 \u2028`, `=1+2 formula`, `-1, "a", b`, `@cell\r\n`];
  for (const [i, text] of awkward.entries()) {
    await client.$transaction((tx) =>
      recordAuditEvent(tx, systemActor(i === 4 ? "+export test" : "export test"), {
        type: "CUSTOMER_UPDATED",
        object: { type: "Customer", id: `c-${i}` },
        summary: text,
        before: i % 2 ? { name: text } : i === 4 ? text : undefined,
        after: i === 6 ? 42.5 : { name: text, n: [1, 2.5, -0, 1e21, null, true], nested: { z: 1, a: { "": text } } },
        data: i === 3 ? [text, { b: 1, a: 2 }] : i === 5 ? true : undefined,
      }),
    );
    if (i === 2) await createCheckpoint({ client, key });
  }
  await createCheckpoint({ client, key });

  const text = await download(admin, "ndjson");
  expect(text.endsWith("\n")).toBe(true);
  const lines = text.slice(0, -1).split("\n");
  const file = path.join(dir, "export.ndjson");
  await writeFile(file, text);
  await writeFile(path.join(dir, "public.pem"), key.publicKeyPem);

  const { stdout } = await run("npx", ["--no-install", "tsx", "scripts/audit-verify.ts", "--public-key", path.join(dir, "public.pem"), "--export", file], { cwd: root });
  expect(stdout).toMatch(new RegExp(`^OK ${awkward.length} events, 2 checkpoints; signed through event ${awkward.length}`));

  // Each event line parses to exactly what the database holds, as the JavaScript formatter (eventLine) would write it,
  // and each CSV line is the one csvLine writes.
  const q: RawQuery = async (sql, params) => (await scratch.query(sql, params)).rows as Record<string, unknown>[];
  const stored = [];
  for await (const e of readEvents(q)) stored.push(e);
  const exported = lines.map(parseExportLine).filter((l) => l.kind === "event");
  expect(exported).toEqual(stored.map((e) => parseExportLine(eventLine(e))));
  expect(await download(admin, "csv")).toBe([csvHeader(), ...stored.map(csvLine)].map((l) => `${l}\n`).join(""));
});

const appA = "aaaaaaaa-0000-4000-8000-00000000000a";
const customerA = "aaaaaaaa-0000-4000-8000-0000000000c0";
const appB = "bbbbbbbb-0000-4000-8000-00000000000b";
const customerB = "bbbbbbbb-0000-4000-8000-0000000000c0";
// What another tenant's events hold and an auditor of application A must never receive.
const secrets = ["Bravo Corp", "bravo-secret-summary", "ops@bravo.example", "203.0.113.66", "bravo-user-agent", appB, customerB];
const auditor = toUserActor(
  {
    id: "00000000-0000-4000-8000-0000000000a1",
    email: "auditor@alpha.example",
    name: "Audrey",
    isPlatformAdmin: false,
    customerId: customerA,
    mustChangePassword: false,
    memberships: [{ applicationId: appA, role: "AUDITOR" }],
  },
  null,
  { requestId: "export-test", ip: null, userAgent: null },
);

async function writeTenantB(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await client.$transaction((tx) =>
      recordAuditEvent(tx, { type: "USER", id: "00000000-0000-4000-8000-0000000000b1", email: "ops@bravo.example", name: "Bravo Ops", isPlatformAdmin: false, customerId: customerB, sessionId: null, mustChangePassword: false, roles: new Map(), ctx: { requestId: "bravo", ip: "203.0.113.66", userAgent: "bravo-user-agent" } }, {
        type: "APPLICATION_UPDATED",
        object: { type: "Application", id: appB },
        scope: { customerId: customerB, applicationId: appB },
        summary: `bravo-secret-summary ${i}`,
        after: { name: "Bravo Corp", n: i },
      }),
    );
  }
}

/** Two tenants' events interleaved, platform-wide ones (no application) too, and checkpoints between them. */
async function twoTenants(key: SigningKey): Promise<void> {
  await writeEvents(2, { customerId: customerA, applicationId: appA }, "alpha");
  await writeTenantB(3);
  await writeEvents(1, {}, "platform");
  await createCheckpoint({ client, key });
  await writeEvents(2, { customerId: customerA, applicationId: appA }, "alpha later");
  await writeTenantB(2);
  await createCheckpoint({ client, key });
  await writeEvents(1, { customerId: customerA, applicationId: appA }, "alpha unsigned");
  await writeTenantB(1);
}

async function exportAs(actor: UserActor, name: string, filter: TAuditFilter = {}): Promise<{ file: string; text: string }> {
  const text = await download(actor, "ndjson", filter);
  const file = path.join(dir, name);
  await writeFile(file, text);
  return { file, text };
}

describe("an auditor's export", () => {
  it("verifies on its own: their events in full, every other event as seq and hashes only, nothing else of another tenant", async () => {
    const key = await auditSigningKey();
    await twoTenants(key);
    const { file, text } = await exportAs(auditor, "auditor.ndjson");
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ kind: "releasegate-audit-export", complete: true, filters: {}, applications: [appA], headSeq: "12" });
    const events = lines.filter((l) => l.kind === "event");
    expect(events.map((e) => e.seq)).toEqual(["1", "2", "7", "8", "11"]);
    expect(new Set(events.map((e) => e.applicationId))).toEqual(new Set([appA]));
    const hidden = lines.filter((l) => l.kind === "redacted");
    expect(hidden.map((e) => e.seq)).toEqual(["3", "4", "5", "6", "9", "10", "12"]);
    for (const h of hidden) expect(Object.keys(h).sort()).toEqual(["chainVersion", "contentHash", "hash", "kind", "prevHash", "seq"]);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain("platform 0");

    const ok = await verifyCommand(key, ["--export", file]);
    expect(ok.code, ok.out).toBe(0);
    // The export signed events 11 and 12, which no checkpoint had signed yet.
    expect(ok.out).toMatch(/^OK 12 events \(7 of them other applications' or platform-wide, as hashes only\), 3 checkpoints; signed through event 12 /);
    // The same anchor as from the whole record.
    const whole = await verifyCommand(key, ["--database-url", scratch.url]);
    expect(whole.out).toContain(/--anchor \S+/.exec(ok.out)![0]);
  });

  it("catches one of their events edited in the file, even with the next line re-linked to it", async () => {
    const key = await auditSigningKey();
    await twoTenants(key);
    const { file, text } = await exportAs(auditor, "auditor.ndjson");
    await writeFile(file, text.replace('"summary":"alpha later 1"', '"summary":"alpha later one"'));
    const edited = await verifyCommand(key, ["--export", file]);
    expect(edited.code).toBe(1);
    expect(edited.out).toContain("first bad sequence number: 8");

    // A forger who recomputes the edited event's hash and sets the following (hidden) event's prevHash to it still
    // cannot make that event's hash follow: it is sha256(prevHash || contentHash).
    const lines = text.trimEnd().split("\n");
    const i8 = lines.findIndex((l) => l.includes('"seq":"8"'));
    const e8 = parseExportLine(lines[i8]!.replace('"summary":"alpha later 1"', '"summary":"alpha later one"'));
    if (e8.kind !== "event") throw new Error("expected event 8");
    const forged = { ...e8.event, hash: hashEvent(e8.event) };
    lines[i8] = eventLine(forged);
    const next = JSON.parse(lines[i8 + 1]!) as Record<string, unknown>;
    expect(next).toMatchObject({ kind: "redacted", seq: "9" });
    lines[i8 + 1] = JSON.stringify({ ...next, prevHash: forged.hash });
    await writeFile(file, `${lines.join("\n")}\n`);
    const relinked = await verifyCommand(key, ["--export", file]);
    expect(relinked.code).toBe(1);
    expect(relinked.out).toContain("FAIL event 9: shown as hashes only, its hash does not follow from the event before it and its content hash");
  });

  it("catches one of their events moved out of their sight in the database (its application changed)", async () => {
    const key = await auditSigningKey();
    await twoTenants(key);
    await asSuperuser(`UPDATE "AuditEvent" SET "applicationId" = '${appB}', "customerId" = '${customerB}' WHERE "seq" = 7`);
    const { file, text } = await exportAs(auditor, "auditor.ndjson");
    expect(text).not.toContain("alpha later 0");
    const r = await verifyCommand(key, ["--export", file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("first bad sequence number: 7");
    expect(r.out).toContain("event 7: shown as hashes only");
  });

  it("with a filter it is a filtered export, and says by what; without one it never claims to be filtered", async () => {
    const key = await auditSigningKey();
    await twoTenants(key);
    const filtered = await exportAs(auditor, "filtered.ndjson", { type: "CUSTOMER_UPDATED" });
    expect(JSON.parse(filtered.text.split("\n")[0]!)).toMatchObject({ complete: false, filters: { type: "CUSTOMER_UPDATED" } });
    const r = await verifyCommand(key, ["--export", filtered.file]);
    expect(r.code).toBe(2);
    expect(r.out).toContain("this export is filtered (type CUSTOMER_UPDATED)");
    const unfiltered = await verifyCommand(key, ["--export", (await exportAs(auditor, "whole.ndjson")).file]);
    expect(unfiltered.out).not.toContain("filtered");
  });

  it("starts after the checkpoint that seals events written before content hashes existed (chain version 1)", async () => {
    const key = await auditSigningKey();
    // A record begun by an earlier version: version-1 events of both tenants, then a checkpoint, then new events.
    await writeLegacyEvents([appA, appB, null, appB]);
    await createCheckpoint({ client, key });
    await writeLegacyEvents([appB]);
    await twoTenants(key);
    const whole = await verifyCommand(key, ["--export", (await exportAs(admin, "admin.ndjson")).file]);
    expect(whole.code, whole.out).toBe(0);
    expect(whole.out).toMatch(/^OK 17 events, 4 checkpoints; signed through event 17 /);

    const { file, text } = await exportAs(auditor, "auditor.ndjson");
    const header = JSON.parse(text.split("\n")[0]!) as Record<string, unknown>;
    // Event 5 (another tenant's, version 1) is sealed by checkpoint 2, the first to sign it.
    expect(header).toMatchObject({ complete: true, startsAfter: { checkpoint: "2", seq: "11" } });
    for (const secret of secrets) expect(text).not.toContain(secret);
    const r = await verifyCommand(key, ["--export", file]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^OK 6 events from event 12 \(3 of them other applications' or platform-wide, as hashes only\), 4 checkpoints; signed through event 17 /);
    const early = await verifyCommand(key, ["--export", file, "--anchor", `3:${"a".repeat(64)}`]);
    expect(early.code).toBe(1);
    expect(early.out).toContain("FAIL event 3: not in this export, which starts after event 11");
  });

  it("has a checkpoint signed first when none covers another tenant's version-1 events yet", async () => {
    const key = await auditSigningKey();
    await writeLegacyEvents([appA, appB]);
    await writeEvents(1, { customerId: customerA, applicationId: appA }, "alpha");
    const first = await exportAs(auditor, "first.ndjson");
    expect(JSON.parse(first.text.split("\n")[0]!)).toMatchObject({ complete: true, startsAfter: { checkpoint: "1", seq: "3" } });
    expect(await client.auditCheckpoint.count()).toBe(1);
    await writeEvents(1, { customerId: customerA, applicationId: appA }, "alpha later");
    const r = await verifyCommand(key, ["--export", (await exportAs(auditor, "second.ndjson")).file]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^OK 1 event from event 4, 2 checkpoints; signed through event 4 /);
  });

  /** Events as a version before content hashes wrote them: hash = sha256(prevHash || canonical), chainVersion 1. */
  async function writeLegacyEvents(apps: (string | null)[]): Promise<void> {
    for (const app of apps) {
      const [head] = (await scratch.query(`SELECT "seq", "hash" FROM "AuditEvent" ORDER BY "seq" DESC LIMIT 1`)).rows as { seq: string; hash: string }[];
      const e: ChainedEvent = {
        seq: BigInt(head?.seq ?? 0) + 1n,
        id: randomUUID(),
        occurredAt: new Date(),
        type: "APPLICATION_UPDATED",
        actorType: "SYSTEM",
        actorId: null,
        actorLabel: app === appB ? "ops@bravo.example" : "system: legacy",
        customerId: app === appB ? customerB : app === appA ? customerA : null,
        applicationId: app,
        environmentId: null,
        releaseId: null,
        objectType: "Application",
        objectId: app,
        summary: app === appB ? "bravo-secret-summary legacy" : "legacy",
        before: null,
        after: app === appB ? { name: "Bravo Corp" } : null,
        data: null,
        ip: null,
        userAgent: null,
        requestId: null,
        prevHash: head?.hash ?? GENESIS_HASH,
        chainVersion: 1,
      };
      await scratch.query(
        `INSERT INTO "AuditEvent" ("seq","id","occurredAt","type","actorType","actorLabel","customerId","applicationId","objectType","objectId","summary","after","prevHash","hash","chainVersion")
         VALUES ($1,$2,$3::timestamp(3),$4,'SYSTEM',$5,$6,$7,$8,$9,$10,$11::jsonb,$12,$13,1)`,
        [e.seq.toString(), e.id, e.occurredAt.toISOString().replace("T", " ").replace("Z", ""), e.type, e.actorLabel, e.customerId, e.applicationId, e.objectType, e.objectId, e.summary, e.after === null ? null : JSON.stringify(e.after), e.prevHash, hashEvent(e)],
      );
    }
  }
});

describe("an export signs the head of the chain when it is made", () => {
  /** The export's lines with the last `n` events cut and the header's head edited to match: a careful forger's cut. */
  function cutEnd(text: string, n: number): string[] {
    const lines = text.trimEnd().split("\n");
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    const kept = lines.slice(1, lines.length - n);
    const last = JSON.parse(kept.at(-1)!) as { seq: string };
    return [JSON.stringify({ ...header, headSeq: last.seq }), ...kept];
  }
  const isCheckpoint = (line: string, n: number) => line.startsWith('{"kind":"checkpoint"') && (JSON.parse(line) as { number: string }).number === String(n);

  it("so a normal export verifies with no event left unsigned, and exporting again signs nothing new", async () => {
    const key = await auditSigningKey();
    await writeEvents(1);
    const one = await verifyCommand(key, ["--export", (await exportAs(admin, "one.ndjson")).file]);
    expect(one.code, one.out).toBe(0);
    expect(one.out).toMatch(/^OK 1 event, 1 checkpoint; signed through event 1 /);
    await writeEvents(2, {}, "signed by the timer");
    await createCheckpoint({ client, key });
    await writeEvents(3, {}, "not signed yet");
    const { file, text } = await exportAs(admin, "admin.ndjson");
    expect(JSON.parse(text.split("\n")[0]!)).toMatchObject({ headSeq: "6" });
    const r = await verifyCommand(key, ["--export", file]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^OK 6 events, 3 checkpoints; signed through event 6 /);
    expect(r.out).not.toContain("NOT SIGNED");
    await exportAs(admin, "again.ndjson");
    expect(await client.auditCheckpoint.count()).toBe(3);
  });

  for (const [who, actor] of [["an administrator's", admin], ["an auditor's", auditor]] as const) {
    it(`so cutting the end of ${who} export fails, even with the header's head edited to match`, async () => {
      const key = await auditSigningKey();
      await twoTenants(key); // events 1..12; checkpoints through 6 and 10; 11 and 12 not signed yet
      const { file, text } = await exportAs(actor, "whole.ndjson");
      const whole = await verifyCommand(key, ["--export", file]);
      expect(whole.code, whole.out).toBe(0);

      await writeFile(file, `${cutEnd(text, 2).join("\n")}\n`);
      const cut = await verifyCommand(key, ["--export", file]);
      expect(cut.code, cut.out).toBe(1);
      expect(cut.out).toContain("FAIL event 11: missing; the file ends at event 10 but checkpoint 3 signed the chain through event 12: events were cut");

      // The checkpoint that signed the end cut too: the header's head is past the newest checkpoint left.
      await writeFile(file, `${cutEnd(text, 1).filter((l) => !isCheckpoint(l, 3)).join("\n")}\n`);
      const uncovered = await verifyCommand(key, ["--export", file]);
      expect(uncovered.code, uncovered.out).toBe(1);
      expect(uncovered.out).toContain(
        "FAIL event 11: not signed; the file ends at event 11 but its newest checkpoint, 2, signed the chain only through event 10, while an export signs its last event when it is made: events (and the checkpoint that signed them) were cut",
      );

      // Cut back to an earlier checkpoint exactly, that checkpoint's signed time is all that shows it; the anchor
      // kept from the whole file catches it.
      await writeFile(file, `${cutEnd(text, 2).filter((l) => !isCheckpoint(l, 3)).join("\n")}\n`);
      const anchor = /keep this anchor outside Releasegate: --anchor (\S+)/.exec(whole.out)![1]!;
      expect(anchor).toMatch(/^12:/);
      const anchored = await verifyCommand(key, ["--export", file, "--anchor", anchor]);
      expect(anchored.code, anchored.out).toBe(1);
      expect(anchored.out).toContain("FAIL event 11: missing; your anchor names event 12");
    });
  }

  it("stays consistent while events are written and other instances sign checkpoints at the same time", async () => {
    const key = await auditSigningKey();
    await twoTenants(key);
    // Writers, the checkpoint timer of two instances and three exports, all at once.
    const [, , ...exports] = await Promise.all([
      writeEvents(15, { customerId: customerA, applicationId: appA }, "during"),
      Promise.all([createCheckpoint(), createCheckpoint(), createCheckpoint()]),
      exportAs(admin, "race-1.ndjson"),
      exportAs(auditor, "race-2.ndjson"),
      exportAs(admin, "race-3.ndjson"),
    ]);
    for (const { file, text } of exports) {
      const head = (JSON.parse(text.split("\n")[0]!) as { headSeq: string }).headSeq;
      const r = await verifyCommand(key, ["--export", file]);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`; signed through event ${head} `);
      expect(r.out).not.toContain("NOT SIGNED");
    }
    const database = await verifyCommand(key, ["--database-url", scratch.url]);
    expect(database.code, database.out).toBe(0);
  });
});
