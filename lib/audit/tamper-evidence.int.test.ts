// The audit record's promises, checked the way an auditor would: with the real `npm run audit:verify` command and
// only the public key, against a database that someone with superuser rights has tampered with.
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemActor } from "../auth/actor";
import { migrateDatabase } from "../db/migrate";
import { PrismaClient } from "../db/generated/client";
import { createScratchDatabase, type ScratchDatabase } from "../../test/scratch-database";
import { createCheckpoint } from "./create-checkpoint";
import { canonicalCheckpoint, hashCheckpoint, hashEvent } from "./chain";
import { checkpointLine, eventLine, parseExportLine } from "./export-format";
import { readCheckpoints, readEvents, type RawQuery } from "./event-rows";
import { recordAuditEvent } from "./record-audit-event";
import { keyIdOf, type SigningKey } from "./signing-key";
import { sign } from "node:crypto";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

let scratch: ScratchDatabase;
let client: PrismaClient;
let key: SigningKey;
let dir: string;
let publicKeyFile: string;

function makeKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), keyId: keyIdOf(publicKey) };
}

async function writeEvents(n: number, label = "event"): Promise<void> {
  for (let i = 0; i < n; i++) {
    await client.$transaction((tx) =>
      recordAuditEvent(tx, systemActor("tamper test"), {
        type: "CUSTOMER_UPDATED",
        object: { type: "Customer", id: `c-${i}` },
        summary: `${label} ${i}`,
        after: { name: `Customer ${i}`, nested: { list: [1, 2.5, "x"], flag: true } },
      }),
    );
  }
}

/** Runs the real verify command; returns its exit code and output. */
async function verify(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run("npx", ["--no-install", "tsx", "scripts/audit-verify.ts", "--public-key", publicKeyFile, ...args], { cwd: root });
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: `${err.stdout}${err.stderr}` };
  }
}

const verifyDb = () => verify(["--database-url", scratch.url]);

/** Runs SQL as the database owner with the append-only triggers off: what a rogue administrator could do. */
async function asSuperuser(sql: string): Promise<void> {
  await scratch.query(`BEGIN; ALTER TABLE "AuditEvent" DISABLE TRIGGER USER; ALTER TABLE "AuditCheckpoint" DISABLE TRIGGER USER; ${sql};
    ALTER TABLE "AuditEvent" ENABLE TRIGGER USER; ALTER TABLE "AuditCheckpoint" ENABLE TRIGGER USER; COMMIT`);
}

/** A complete export of the database as the exporter lays it out (header, every checkpoint, every event). */
async function exportFileOf(db: ScratchDatabase, into: string): Promise<string> {
  const q: RawQuery = async (sql, params) => (await db.query(sql, params)).rows as Record<string, unknown>[];
  const events = [];
  for await (const e of readEvents(q)) events.push(eventLine(e));
  const [top] = await q(`SELECT coalesce(max("seq"), 0)::text AS "head" FROM "AuditEvent"`, []);
  const header = { kind: "releasegate-audit-export", version: 1, exportedAt: new Date().toISOString(), complete: true, filters: {}, headSeq: String(top!.head) };
  const lines = [JSON.stringify(header), ...(await readCheckpoints(q)).map(checkpointLine), ...events];
  const file = path.join(into, "export.ndjson");
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}

/** What an attacker without the signing key can do: change event `seq` and re-hash every event after it. */
async function rewriteFrom(seq: number): Promise<void> {
  const q: RawQuery = async (sql, params) => (await scratch.query(sql, params)).rows as Record<string, unknown>[];
  const events = [];
  for await (const e of readEvents(q)) events.push(e);
  let prev = events[seq - 2]?.hash ?? "0".repeat(64);
  const statements: string[] = [];
  for (const e of events.slice(seq - 1)) {
    const changed = { ...e, summary: e.seq === BigInt(seq) ? "rewritten" : e.summary, prevHash: prev };
    const hash = hashEvent(changed);
    statements.push(`UPDATE "AuditEvent" SET "summary" = '${changed.summary}', "prevHash" = '${prev}', "hash" = '${hash}' WHERE "seq" = ${e.seq}`);
    prev = hash;
  }
  await asSuperuser(statements.join(";\n"));
}

/** The stored hash of event `seq`. */
async function hashOf(seq: number): Promise<string> {
  return (await client.auditEvent.findUniqueOrThrow({ where: { seq: BigInt(seq) }, select: { hash: true } })).hash;
}

beforeEach(async () => {
  scratch = await createScratchDatabase("audit");
  await migrateDatabase(scratch.url);
  client = new PrismaClient({ adapter: new PrismaPg({ connectionString: scratch.url, max: 2 }) });
  key = makeKey();
  dir = await mkdtemp(path.join(os.tmpdir(), "releasegate-audit-test-"));
  publicKeyFile = path.join(dir, "public.pem");
  await writeFile(publicKeyFile, key.publicKeyPem);
  await writeEvents(6);
  await createCheckpoint({ client, key });
  await writeEvents(4, "later");
  await createCheckpoint({ client, key });
}, 60_000);

afterEach(async () => {
  await client.$disconnect();
  await scratch.drop();
  await rm(dir, { recursive: true, force: true });
});

describe("the audit chain", () => {
  it("links every event to the one before it with gap-free numbers", async () => {
    const rows = await client.auditEvent.findMany({ orderBy: { seq: "asc" } });
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rows[0]!.prevHash).toBe("0".repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
  });

  it("verifies an untouched database and reports counts", async () => {
    const r = await verifyDb();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK 10 events, 2 checkpoints; signed through event 10/);
  });

  it("says plainly that events written after the last checkpoint are not protected by a signature yet", async () => {
    await writeEvents(3, "tail");
    const r = await verifyDb();
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      "\nNOT SIGNED YET: events 11..13 are chained but no checkpoint signs them, so no signature protects them: they could be cut or rewritten unnoticed until the server's next checkpoint (every AUDIT_CHECKPOINT_INTERVAL_SECONDS) signs them\n",
    );
    await writeEvents(1, "one more");
    await createCheckpoint({ client, key });
    await writeEvents(1, "the last");
    expect((await verifyDb()).out).toContain("\nNOT SIGNED YET: event 15 is chained but no checkpoint signs it, so no signature protects it: it could be cut");
  });

  it("catches a row changed by a superuser with the triggers disabled", async () => {
    await asSuperuser(`UPDATE "AuditEvent" SET "summary" = 'nothing happened' WHERE "seq" = 3`);
    const r = await verifyDb();
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL event 3: content does not match its hash");
    expect(r.out).toContain("first bad sequence number: 3");
  });

  it("catches a change to the JSON details", async () => {
    await asSuperuser(`UPDATE "AuditEvent" SET "after" = jsonb_set("after", '{name}', '"Someone else"') WHERE "seq" = 8`);
    const r = await verifyDb();
    expect(r.code).toBe(1);
    expect(r.out).toContain("first bad sequence number: 8");
  });

  it("catches a deleted row", async () => {
    await asSuperuser(`DELETE FROM "AuditEvent" WHERE "seq" = 5`);
    const r = await verifyDb();
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL event 5: missing (deleted?); the next event present is 6");
  });

  it("catches rows deleted from the end, up to the last checkpoint", async () => {
    await asSuperuser(`DELETE FROM "AuditEvent" WHERE "seq" >= 9`);
    const r = await verifyDb();
    expect(r.code).toBe(1);
    expect(r.out).toContain("first bad sequence number: 9");
    expect(r.out).toContain("events were deleted from the end");
  });

  it("catches reordered rows", async () => {
    await asSuperuser(`UPDATE "AuditEvent" SET "seq" = -1 WHERE "seq" = 2;
      UPDATE "AuditEvent" SET "seq" = 2 WHERE "seq" = 3;
      UPDATE "AuditEvent" SET "seq" = 3 WHERE "seq" = -1`);
    const r = await verifyDb();
    expect(r.code).toBe(1);
    expect(r.out).toContain("first bad sequence number: 2");
  });

  it("catches history rewritten and re-hashed by someone without the signing key", async () => {
    // The attacker changes event 4 and recomputes every hash after it, so the chain alone is consistent again.
    const q: RawQuery = async (sql, params) => (await scratch.query(sql, params)).rows as Record<string, unknown>[];
    const events = [];
    for await (const e of readEvents(q)) events.push(e);
    let prev = events[2]!.hash;
    const statements: string[] = [];
    for (const e of events.slice(3)) {
      const changed = { ...e, summary: e.seq === 4n ? "rewritten" : e.summary, prevHash: prev };
      const hash = hashEvent(changed);
      statements.push(`UPDATE "AuditEvent" SET "summary" = '${changed.summary}', "prevHash" = '${prev}', "hash" = '${hash}' WHERE "seq" = ${e.seq}`);
      prev = hash;
    }
    await asSuperuser(statements.join(";\n"));
    const r = await verifyDb();
    expect(r.code).toBe(1);
    // Checkpoint 1 (event 6) is the first signed point that disagrees and nothing signed comes before it: the
    // change lies somewhere in events 1..6, which is all anyone can tell without the original events.
    expect(r.out).toContain("FAIL events 1..6 were changed after checkpoint 1 was signed");
    expect(r.out).toContain("first bad sequence number: 1 (the change lies in events 1..6)");
  });

  it("reports a re-hashed rewrite between two checkpoints as the range between them, not the later checkpoint's number", async () => {
    await rewriteFrom(8);
    const r = await verifyDb();
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL events 7..10 were changed after checkpoint 2 was signed");
    expect(r.out).toContain("checkpoint 1 (through event 6) still matches");
    // Events 1..6 verified against checkpoint 1; 7..10 each verify on their own but not against checkpoint 2.
    expect(r.out).toContain("first bad sequence number: 7 (the change lies in events 7..10)\n(6 events verified before it)\n");
  });

  it("catches a forged checkpoint", async () => {
    const forger = makeKey();
    const q: RawQuery = async (sql, params) => (await scratch.query(sql, params)).rows as Record<string, unknown>[];
    const [, second] = await readCheckpoints(q);
    // Re-sign checkpoint 2 with another key but claim the real key id.
    const signature = sign(null, Buffer.from(canonicalCheckpoint(second!), "utf8"), forger.privateKey).toString("base64");
    await asSuperuser(`UPDATE "AuditCheckpoint" SET "signature" = '${signature}', "hash" = '${hashCheckpoint(second!, signature)}' WHERE "number" = 2`);
    const r = await verifyDb();
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL checkpoint 2: signature does not verify");
  });

  it("catches a deleted checkpoint", async () => {
    await asSuperuser(`DELETE FROM "AuditCheckpoint" WHERE "number" = 1`);
    const r = await verifyDb();
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL checkpoint 2: expected checkpoint number 1 (a checkpoint is missing or duplicated)");
  });

  it("catches a whole table emptied with the triggers disabled", async () => {
    await asSuperuser(`DELETE FROM "AuditEvent"`);
    const r = await verifyDb();
    expect(r.code).toBe(1);
    expect(r.out).toContain("first bad sequence number: 1");
    expect(r.out).toContain("events were deleted from the end");
  });

  it("refuses to verify with the wrong public key", async () => {
    await writeFile(publicKeyFile, makeKey().publicKeyPem);
    const r = await verifyDb();
    expect(r.code).toBe(1);
    expect(r.out).toContain("not by the public key given");
  });

  it("cannot be changed by the application: UPDATE, DELETE and TRUNCATE are refused", async () => {
    await expect(client.auditEvent.update({ where: { seq: 1n }, data: { summary: "x" } })).rejects.toThrow(/append-only/);
    await expect(client.auditEvent.deleteMany({})).rejects.toThrow(/append-only/);
    await expect(client.$executeRawUnsafe(`TRUNCATE "AuditEvent"`)).rejects.toThrow(/append-only/);
    await expect(client.auditCheckpoint.deleteMany({})).rejects.toThrow(/append-only/);
    expect(await client.auditEvent.count()).toBe(10);
    expect((await verifyDb()).code).toBe(0);
  });

  it("does not leave a number behind when the audited change rolls back", async () => {
    await expect(
      client.$transaction(async (tx) => {
        await recordAuditEvent(tx, systemActor("tamper test"), { type: "CUSTOMER_UPDATED", object: { type: "Customer" }, summary: "doomed" });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    await writeEvents(1, "after rollback");
    const seqs = (await client.auditEvent.findMany({ select: { seq: true }, orderBy: { seq: "asc" } })).map((r) => Number(r.seq));
    expect(seqs.at(-1)).toBe(11);
    expect((await verifyDb()).code).toBe(0);
  });
});

describe("an anchor kept outside Releasegate", () => {
  /** The `--anchor N:HASH` the OK line tells the auditor to keep. */
  function anchorIn(out: string): string {
    const m = /keep this anchor outside Releasegate: --anchor (\d+:[0-9a-f]{64})/.exec(out);
    if (!m) throw new Error(`no anchor in: ${out}`);
    return m[1]!;
  }

  it("is printed with the hash of the newest signed event, next to 'signed through event N'", async () => {
    const r = await verifyDb();
    expect(r.code).toBe(0);
    const hash = await hashOf(10);
    expect(r.out).toMatch(new RegExp(`^OK 10 events, 2 checkpoints; signed through event 10 \\(hash ${hash}\\)`));
    expect(anchorIn(r.out)).toBe(`10:${hash}`);
  });

  it("holds on an untouched record, from the database and from an export", async () => {
    const anchor = anchorIn((await verifyDb()).out);
    await writeEvents(3, "later still");
    await createCheckpoint({ client, key });
    const r = await verify(["--database-url", scratch.url, "--anchor", anchor, "--anchor", `4:${await hashOf(4)}`]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("anchors held: events 4, 10");
    expect((await verify(["--export", await exportFileOf(scratch, dir), "--anchor", anchor])).code).toBe(0);
  });

  it("catches history cut off and grown back past the anchor, which the record alone cannot show", async () => {
    const anchor = anchorIn((await verifyDb()).out);
    // Someone with the database cuts events 7.. together with the checkpoint that signed them; Releasegate then
    // goes on writing (and signing) new events 7, 8, ... past the anchor's event 10.
    await asSuperuser(`DELETE FROM "AuditEvent" WHERE "seq" >= 7; DELETE FROM "AuditCheckpoint" WHERE "number" = 2`);
    await writeEvents(6, "grown back");
    await createCheckpoint({ client, key });
    const unanchored = await verifyDb();
    expect(unanchored.code).toBe(0); // a shorter history that grew back is valid in itself
    expect(unanchored.out).toMatch(/^OK 12 events, 2 checkpoints; signed through event 12/);

    for (const source of [["--database-url", scratch.url], ["--export", await exportFileOf(scratch, dir)]]) {
      const r = await verify([...source, "--anchor", anchor]);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toContain("FAIL event 10's hash in the record differs from the anchor you passed\n");
      expect(r.out).toContain(
        "If you did, the history up to event 10 was rewritten after you took the anchor (changed and re-hashed, or cut off and written anew): the change lies in events 7..10, each of which verifies on its own; checkpoint 1 (through event 6) still matches.",
      );
    }
  });

  it("that was mistyped is reported as a hash differing from the anchor: check the copy first, then suspect a rewrite", async () => {
    const anchor = anchorIn((await verifyDb()).out);
    const hash = anchor.slice(3);
    // One hex digit (the 18th) changed, as in a copy made by hand.
    const typo = `${hash.slice(0, 17)}${hash[17] === "0" ? "1" : "0"}${hash.slice(18)}`;
    const r = await verify(["--database-url", scratch.url, "--anchor", `10:${typo}`]);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      [
        "FAIL event 10's hash in the record differs from the anchor you passed",
        `  event 10 in the record: ${hash}`,
        `  your --anchor 10:       ${typo}`,
        `  (they first differ at hex digit 18)`,
        "First check that you copied the anchor exactly. If you did, the history up to event 10 was rewritten after you took the anchor (changed and re-hashed, or cut off and written anew): the change lies in events 7..10, each of which verifies on its own; checkpoint 1 (through event 6) still matches.",
        "",
      ].join("\n"),
    );
  });

  it("catches history cut off before the anchor's event", async () => {
    const anchor = anchorIn((await verifyDb()).out);
    await asSuperuser(`DELETE FROM "AuditEvent" WHERE "seq" >= 9; DELETE FROM "AuditCheckpoint" WHERE "number" = 2`);
    expect((await verifyDb()).code).toBe(0);
    for (const source of [["--database-url", scratch.url], ["--export", await exportFileOf(scratch, dir)]]) {
      const r = await verify([...source, "--anchor", anchor]);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toContain("FAIL event 9: missing; your anchor names event 10");
      expect(r.out).toContain("first bad sequence number: 9");
    }
  });

  it("refuses an anchor that is not N:HASH", async () => {
    for (const bad of ["10", "10:abc", "x:" + "a".repeat(64), "0:" + "a".repeat(64)]) {
      const r = await verify(["--database-url", scratch.url, "--anchor", bad]);
      expect(r.code, bad).toBe(2);
      expect(r.out).toContain("--anchor takes N:HASH");
    }
  });
});

describe("the public key's fingerprint", () => {
  it("is printed in full, is what openssl computes from the key file, and --key-fingerprint requires it", async () => {
    const r = await verifyDb();
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      `\npublic key SHA-256 fingerprint: ${key.keyId}: compare it with the fingerprint you obtained apart from this server, or pass it with --key-fingerprint\n`,
    );
    // How an operator reads it from the key file on the server (README, "The audit record").
    const { stdout } = await run("sh", ["-c", `openssl pkey -pubin -in '${publicKeyFile}' -outform DER | sha256sum`]);
    expect(stdout.split(" ")[0]).toBe(key.keyId);

    for (const given of [key.keyId, `sha256:${key.keyId.toUpperCase()}`, key.keyId.match(/../g)!.join(":")]) {
      const held = await verify(["--database-url", scratch.url, "--key-fingerprint", given]);
      expect(held.code, held.out).toBe(0);
      expect(held.out).toContain(`\npublic key SHA-256 fingerprint: ${key.keyId}, as --key-fingerprint requires\n`);
    }
    const other = makeKey().keyId;
    const wrong = await verify(["--database-url", scratch.url, "--key-fingerprint", other]);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toBe(
      `FAIL the public key given is not the one you expect: its SHA-256 fingerprint is ${key.keyId}, not ${other} (--key-fingerprint). Nothing was verified: get the public key again and check where it came from.\n`,
    );
    const bad = await verify(["--database-url", scratch.url, "--key-fingerprint", "abc"]);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("--key-fingerprint takes the key's SHA-256 fingerprint (64 hex digits)");
  });
});

describe("an export file", () => {
  const exportFile = () => exportFileOf(scratch, dir);

  it("verifies offline with only the public key", async () => {
    const r = await verify(["--export", await exportFile()]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK 10 events, 2 checkpoints/);
  });

  it("fails when a line of the file is edited", async () => {
    const file = await exportFile();
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace('"summary":"event 2"', '"summary":"event two"'));
    const r = await verify(["--export", file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("first bad sequence number: 3");
  });

  /** The export's lines, edited by `change`, written back; returns the verify command's answer. */
  async function verifyEdited(change: (lines: string[]) => string[]): Promise<{ code: number; out: string }> {
    const file = await exportFile();
    const lines = (await readFile(file, "utf8")).trimEnd().split("\n");
    await writeFile(file, `${change(lines).join("\n")}\n`);
    return verify(["--export", file]);
  }
  // Lines: 0 header, 1-2 checkpoints, 3.. events 1..10.
  const EVENT = (seq: number) => 2 + seq;

  it("fails when an event line is deleted", async () => {
    const r = await verifyEdited((l) => l.filter((_, i) => i !== EVENT(4)));
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL event 4: missing (deleted?); the next event present is 5");
  });

  it("fails when event lines are swapped", async () => {
    const r = await verifyEdited((l) => l.map((x, i) => (i === EVENT(5) ? l[EVENT(6)]! : i === EVENT(6) ? l[EVENT(5)]! : x)));
    expect(r.code).toBe(1);
    expect(r.out).toContain("first bad sequence number: 5");
  });

  it("fails when the file is cut after events a checkpoint signed", async () => {
    const r = await verifyEdited((l) => l.slice(0, EVENT(8) + 1));
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL event 9: missing; the file ends at event 8 but checkpoint 2 signed the chain through event 10: events were cut");
  });

  it("fails when the file is cut at a line boundary among events no checkpoint signed yet", async () => {
    await writeEvents(3, "tail"); // events 11-13, after the last checkpoint
    const whole = await verifyEdited((l) => l);
    expect(whole.code).toBe(0);
    // Only an export made before exports signed their head can end in unsigned events: the command says so.
    expect(whole.out).toContain(
      "\nNOT SIGNED: events 11..13 are chained but no checkpoint in this export signs them, so no signature protects them: they could have been cut from this file or rewritten unnoticed. This export was made by an earlier version of Releasegate, which did not sign the newest events when exporting: download a new export.\n",
    );
    const r = await verifyEdited((l) => l.slice(0, -1));
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL event 13: missing; the file ends after event 12, but its header says the export runs to event 13 (the file was cut short)");
    expect(r.out).toContain("first bad sequence number: 13");
  });

  it("fails when events follow the head its header names, or the header is missing", async () => {
    const extra = await verifyEdited((l) => [l[0]!.replace('"headSeq":"10"', '"headSeq":"9"'), ...l.slice(1)]);
    expect(extra.code).toBe(1);
    expect(extra.out).toContain("FAIL event 10: after the export's head (its header says it runs to event 9)");
    const headless = await verifyEdited((l) => l.slice(1));
    expect(headless.code).toBe(1);
    expect(headless.out).toContain("FAIL line 1: not the header of an export");
  });

  it("fails when a checkpoint line is removed or forged", async () => {
    const removed = await verifyEdited((l) => l.filter((_, i) => i !== 1));
    expect(removed.code).toBe(1);
    expect(removed.out).toContain("FAIL checkpoint 2: expected checkpoint number 1");
    const forger = makeKey();
    const forged = await verifyEdited((l) =>
      l.map((x, i) => {
        if (i !== 2) return x;
        const c = parseExportLine(x);
        if (c.kind !== "checkpoint") throw new Error("expected a checkpoint line");
        const signature = sign(null, Buffer.from(canonicalCheckpoint(c.checkpoint), "utf8"), forger.privateKey).toString("base64");
        return checkpointLine({ ...c.checkpoint, signature, hash: hashCheckpoint(c.checkpoint, signature) });
      }),
    );
    expect(forged.code).toBe(1);
    expect(forged.out).toContain("FAIL checkpoint 2: signature does not verify");
  });

  it("fails, naming the line, when a line is not an export line or a checkpoint follows the events", async () => {
    const broken = await verifyEdited((l) => l.map((x, i) => (i === EVENT(3) ? x.slice(0, -1) : x)));
    expect(broken.code).toBe(1);
    expect(broken.out).toContain(`FAIL line ${EVENT(3) + 1}: not a line of an export`);
    expect(broken.out).toContain("first bad sequence number: 3");
    const moved = await verifyEdited((l) => [...l.filter((_, i) => i !== 2), l[2]!]);
    expect(moved.code).toBe(1);
    expect(moved.out).toContain("a checkpoint after the events");
  });

  it("checks meaning, not layout: another JSON layout, escapes and CRLF line ends still verify", async () => {
    const r = await verifyEdited((l) =>
      l.map((x, i) => {
        if (i === EVENT(2)) return JSON.stringify(JSON.parse(x), null, 2).replace(/\n/g, " "); // whitespace everywhere
        if (i === EVENT(3)) return x.replace('"summary":"event 2"', '"summary":"\\u0065vent 2"'); // an escaped "e"
        return `${x}\r`;
      }),
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK 10 events, 2 checkpoints/);
  });

  it("refuses a filtered export as not verifiable, naming its filters", async () => {
    const r = await verifyEdited((l) => [l[0]!.replace('"complete":true,"filters":{}', '"complete":false,"filters":{"type":"ROLE_GRANTED"}'), ...l.slice(1)]);
    expect(r.code).toBe(2);
    expect(r.out).toContain("this export is filtered (type ROLE_GRANTED): only an export without filters verifies end to end");
    // An incomplete export without filters (an auditor's, from before auditors' exports verified) is not called filtered.
    const partial = await verifyEdited((l) => [l[0]!.replace('"complete":true', '"complete":false'), ...l.slice(1)]);
    expect(partial.code).toBe(2);
    expect(partial.out).toContain("this export holds only some events and not the hashes of the others");
    expect(partial.out).not.toContain("filtered");
  });
});

describe("text that JavaScript holds but PostgreSQL cannot store as is", () => {
  it("an event with lone surrogates (in its text and its JSON) is stored, hashed as stored, and verifies", async () => {
    await client.$transaction((tx) =>
      recordAuditEvent(tx, systemActor("tamper test", { requestId: "r\ud800", userAgent: "agent \udc00" }), {
        type: "CUSTOMER_UPDATED",
        object: { type: "Customer", id: "c-\ud83d" },
        summary: "renamed to \"half \ud800 pair\"",
        after: { "name\udc00": "half \ud800 pair", list: ["\ud83d\ude00", "\ud83d"] },
      }),
    );
    const stored = await client.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    expect(stored.summary).toBe('renamed to "half \ufffd pair"');
    expect(stored.after).toEqual({ "name\ufffd": "half \ufffd pair", list: ["😀", "\ufffd"] });
    const r = await verifyDb();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK 11 events/);
  });
});
