// `npm run audit:verify -- --public-key <file> [--database-url <url> | --export <file.ndjson>]`
// Recomputes the audit hash chain and every signed checkpoint with nothing but the public key, from the database
// or from an NDJSON export. Prints OK with counts, or the first bad sequence number and why; exits 1 on failure,
// 2 on bad usage. Needs no Releasegate server and no private key.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadPublicKey } from "../lib/audit/signing-key";
import { verifyDatabase } from "../lib/audit/verify-database";
import { verifyExport } from "../lib/audit/verify-export";

const usage = "usage: npm run audit:verify -- --public-key <file.pem> [--database-url <postgresql://...> | --export <file.ndjson>]";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { "public-key": { type: "string" }, "database-url": { type: "string" }, export: { type: "string" } },
    strict: true,
  });
  const dbUrl = values["database-url"] ?? (values.export ? undefined : process.env.DATABASE_URL);
  if (!values["public-key"] || (!dbUrl && !values.export) || (values["database-url"] && values.export)) {
    console.error(usage);
    return 2;
  }
  const key = loadPublicKey(await readFile(values["public-key"], "utf8"));
  const started = performance.now();
  const result = values.export ? await verifyExport(values.export, key) : await verifyDatabase(dbUrl!, key);
  const seconds = (performance.now() - started) / 1000;
  if (!result.ok) {
    console.log(`FAIL ${result.reason}`);
    if (result.seq !== undefined) console.log(`first bad sequence number: ${result.seq}`);
    console.log(`(${result.events} events verified before it)`);
    return 1;
  }
  const tail = BigInt(result.events) - result.signedThroughSeq;
  console.log(
    `OK ${result.events} events, ${result.checkpoints} checkpoints; signed through event ${result.signedThroughSeq}` +
      (result.lastCheckpointAt ? ` (last checkpoint ${result.lastCheckpointAt.toISOString()})` : "") +
      (tail > 0n ? `; ${tail} newer events are chained but not yet signed` : "") +
      `; key ${key.keyId.slice(0, 16)}; ${Math.round(result.events / Math.max(seconds, 0.001))} events/s`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  },
);
