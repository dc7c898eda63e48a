// A real NDJSON export, made by exportAuditEvents (the lines PostgreSQL rows are turned into for the download),
// verifies offline with the real `npm run audit:verify -- --export` and only the public key.
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterEach, beforeEach, expect, it } from "vitest";
import { systemActor } from "../auth/actor";
import { toUserActor } from "../auth/session";
import { migrateDatabase } from "../db/migrate";
import { PrismaClient } from "../db/generated/client";
import { createScratchDatabase, type ScratchDatabase } from "../../test/scratch-database";
import { createCheckpoint } from "./create-checkpoint";
import { csvHeader, csvLine, eventLine, parseExportLine } from "./export-format";
import { exportAuditEvents } from "./export-audit-events";
import { readEvents, type RawQuery } from "./event-rows";
import { recordAuditEvent } from "./record-audit-event";
import { keyIdOf, type SigningKey } from "./signing-key";
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

function makeKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), keyId: keyIdOf(publicKey) };
}

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

it("an export of a database whose newest events were deleted fails verification exactly as the database check does", async () => {
  const key = makeKey();
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
  expect(exported).toEqual(database);
});

it("verifies a complete export offline, and its lines read back as the stored events", async () => {
  const key = makeKey();
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
