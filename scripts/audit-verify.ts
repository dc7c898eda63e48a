// `npm run audit:verify -- --public-key <file> [--database-url <url> | --export <file.ndjson>] [--anchor N:HASH ...]
//   [--key-fingerprint HEX]`
// Recomputes the audit hash chain and every signed checkpoint with nothing but the public key, from the database
// or from an NDJSON export. Prints OK with counts, the key's fingerprint and the anchor to keep (the hash of the
// newest signed event), or the first bad sequence number and why; exits 1 on failure, 2 on bad usage. Needs no
// Releasegate server and no private key.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadPublicKey } from "../lib/audit/signing-key";
import { plural } from "../lib/util/text";
import type { Anchors } from "../lib/audit/verify-chain";
import { verifyDatabase } from "../lib/audit/verify-database";
import { verifyExport } from "../lib/audit/verify-export";

const usage =
  "usage: npm run audit:verify -- --public-key <file.pem> [--database-url <postgresql://...> | --export <file.ndjson>] [--anchor N:HASH ...] [--key-fingerprint HEX]";

class UsageError extends Error {}

/** `--anchor N:HASH`, as an earlier OK line printed it: N a positive event number, HASH its 64 hex digits. */
function parseAnchors(values: string[]): Anchors {
  const anchors: Anchors = new Map();
  for (const v of values) {
    const m = /^([1-9]\d{0,18}):([0-9a-f]{64})$/.exec(v.trim().toLowerCase());
    if (!m) throw new UsageError(`--anchor takes N:HASH (an event number, a colon, its 64 hex digits), as an earlier OK line printed it; got "${v}"`);
    const seq = BigInt(m[1]!);
    if (anchors.has(seq) && anchors.get(seq) !== m[2]) throw new UsageError(`two different anchors for event ${seq}`);
    anchors.set(seq, m[2]!);
  }
  return anchors;
}

/**
 * `--key-fingerprint`: the public key's SHA-256 fingerprint (its key id), as sha256sum prints it, with or without a
 * "sha256:" prefix and colons between bytes, in either case.
 */
function parseFingerprint(v: string): string {
  const hex = v.trim().toLowerCase().replace(/^sha256:/, "").replace(/:/g, "");
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new UsageError(`--key-fingerprint takes the key's SHA-256 fingerprint (64 hex digits); got "${v}"`);
  return hex;
}

/** The events after the newest signed one: no signature protects them, and the auditor must read that plainly. */
function unsignedLine(first: bigint, last: bigint, fromExport: boolean): string {
  const one = first === last;
  const events = one ? `event ${first} is` : `events ${first}..${last} are`;
  const them = one ? "it" : "them";
  return fromExport
    ? `NOT SIGNED: ${events} chained but no checkpoint in this export signs ${them}, so no signature protects ${them}: ${one ? "it" : "they"} could have been cut from this file or rewritten unnoticed. ` +
        "This export was made by an earlier version of Releasegate, which did not sign the newest events when exporting: download a new export."
    : `NOT SIGNED YET: ${events} chained but no checkpoint signs ${them}, so no signature protects ${them}: ${one ? "it" : "they"} could be cut or rewritten unnoticed ` +
        `until the server's next checkpoint (every AUDIT_CHECKPOINT_INTERVAL_SECONDS) signs ${them}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "public-key": { type: "string" },
      "database-url": { type: "string" },
      export: { type: "string" },
      anchor: { type: "string", multiple: true },
      "key-fingerprint": { type: "string" },
    },
    strict: true,
  });
  const dbUrl = values["database-url"] ?? (values.export ? undefined : process.env.DATABASE_URL);
  if (!values["public-key"] || (!dbUrl && !values.export) || (values["database-url"] && values.export)) {
    console.error(usage);
    return 2;
  }
  let anchors: Anchors;
  let fingerprint: string | null;
  try {
    anchors = parseAnchors(values.anchor ?? []);
    fingerprint = values["key-fingerprint"] === undefined ? null : parseFingerprint(values["key-fingerprint"]);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${usage}`);
    return 2;
  }
  const key = loadPublicKey(await readFile(values["public-key"], "utf8"));
  // The key file comes from the server whose record it checks: a server that rewrote its record could hand out the
  // key it re-signed with. Only a fingerprint obtained another way (README, "The audit record") rules that out.
  if (fingerprint !== null && fingerprint !== key.keyId) {
    console.log(
      `FAIL the public key given is not the one you expect: its SHA-256 fingerprint is ${key.keyId}, not ${fingerprint} (--key-fingerprint). ` +
        "Nothing was verified: get the public key again and check where it came from.",
    );
    return 1;
  }
  const started = performance.now();
  const result = values.export ? await verifyExport(values.export, key, anchors) : await verifyDatabase(dbUrl!, key, { anchors });
  const seconds = (performance.now() - started) / 1000;
  if (!result.ok) {
    console.log(`FAIL ${result.reason}`);
    // A differing anchor names no bad event: it may be the anchor that is wrong (the reason says so).
    if (result.anchorDiffers) return 1;
    if (result.seq !== undefined) {
      const range = result.range && result.range.first !== result.range.last ? ` (the change lies in events ${result.range.first}..${result.range.last})` : "";
      console.log(`first bad sequence number: ${result.seq}${range}`);
    }
    // `events` counts the events verified before the one where the problem showed; when that problem is a range,
    // it showed at the range's last event, and the events of the range verified only each on its own.
    const before = result.range ? result.events - Number(result.range.last - result.range.first) : result.events;
    console.log(`(${plural(before, "event")} verified before it)`);
    return 1;
  }
  const last = result.from + BigInt(result.events) - 1n;
  console.log(
    `OK ${plural(result.events, "event")}` +
      (result.from > 1n ? ` from event ${result.from}` : "") +
      (result.redacted ? ` (${result.redacted} of them other applications' or platform-wide, as hashes only)` : "") +
      `, ${plural(result.checkpoints, "checkpoint")}; signed through event ${result.signedThroughSeq}` +
      (result.signedThroughHash ? ` (hash ${result.signedThroughHash})` : "") +
      (result.lastCheckpointAt ? `, last checkpoint ${result.lastCheckpointAt.toISOString()}` : "") +
      (result.anchorsHeld.length ? `; anchors held: event${result.anchorsHeld.length > 1 ? "s" : ""} ${result.anchorsHeld.join(", ")}` : "") +
      `; ${Math.round(result.events / Math.max(seconds, 0.001))} events/s`,
  );
  if (last > result.signedThroughSeq) console.log(unsignedLine(result.signedThroughSeq + 1n, last, values.export !== undefined));
  console.log(
    `public key SHA-256 fingerprint: ${key.keyId}` +
      (fingerprint !== null ? ", as --key-fingerprint requires" : ": compare it with the fingerprint you obtained apart from this server, or pass it with --key-fingerprint"),
  );
  // No signature can show a history cut off together with its newest checkpoints and grown back since: only a hash
  // kept where Releasegate cannot change it can (README, "The audit record").
  if (result.signedThroughHash) {
    console.log(`keep this anchor outside Releasegate: --anchor ${result.signedThroughSeq}:${result.signedThroughHash}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  },
);
