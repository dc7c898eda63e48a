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
import { afterAll, beforeAll, expect, it } from "vitest";
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
import { keyIdOf } from "./signing-key";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
type Database = { pool: pg.Pool; prisma: PrismaClient };
const global = globalThis as unknown as { releasegateDatabase?: Database };

let scratch: ScratchDatabase;
let pool: pg.Pool;
let client: PrismaClient;
let previous: Database | undefined;
let dir: string;

beforeAll(async () => {
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

afterAll(async () => {
  global.releasegateDatabase = previous;
  await client.$disconnect();
  await pool.end();
  await scratch.drop();
  await rm(dir, { recursive: true, force: true });
});

it("verifies a complete export offline, and its lines read back as the stored events", async () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const key = { privateKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), keyId: keyIdOf(publicKey) };
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

  const admin = toUserActor(
    { id: "00000000-0000-4000-8000-000000000001", email: "admin@example.test", name: "Admin", isPlatformAdmin: true, customerId: null, mustChangePassword: false, memberships: [] },
    null,
    { requestId: "export-test", ip: null, userAgent: null },
  );
  const download = async (format: "ndjson" | "csv") => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of await exportAuditEvents(admin, {}, format)) chunks.push(chunk);
    return Buffer.concat(chunks).toString("utf8");
  };
  const text = await download("ndjson");
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
  expect(await download("csv")).toBe([csvHeader(), ...stored.map(csvLine)].map((l) => `${l}\n`).join(""));
});
