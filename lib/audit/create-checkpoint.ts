import "server-only";
import { sign } from "node:crypto";
import path from "node:path";
import { type Db, db } from "../db/client";
import { env } from "../env";
import { type CheckpointPayload, canonicalCheckpoint, GENESIS_HASH, hashCheckpoint } from "./chain";
import { loadOrCreateSigningKey, type SigningKey } from "./signing-key";

const CHECKPOINT_LOCK = 72707372;

export function signingKeyPath(): string {
  const e = env();
  // A runtime path, not a module: tell the bundler not to trace it.
  return path.resolve(/*turbopackIgnore: true*/ e.AUDIT_SIGNING_KEY_PATH ?? path.join(e.DATA_DIR, "audit-signing-key.pem"));
}

let key: Promise<SigningKey> | undefined;
export const auditSigningKey = (): Promise<SigningKey> => (key ??= loadOrCreateSigningKey(signingKeyPath()));

/**
 * Signs the current head of the audit chain, linked to the previous checkpoint. Does nothing (returns null) when no
 * event was written since the last one. Any instance may run it; an advisory lock makes concurrent runs take turns.
 */
export async function createCheckpoint(
  options: { client?: Db; key?: SigningKey } = {},
): Promise<{ number: bigint; lastSeq: bigint } | null> {
  const signingKey = options.key ?? (await auditSigningKey());
  return (options.client ?? db).$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHECKPOINT_LOCK})`;
    // One connection per transaction: queries on it run one after the other (pg refuses to interleave them).
    const head = await tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
    const previous = await tx.auditCheckpoint.findFirst({ orderBy: { number: "desc" } });
    if (!head || (previous && previous.lastSeq >= head.seq)) return null;
    const payload: CheckpointPayload = {
      number: (previous?.number ?? 0n) + 1n,
      createdAt: new Date(),
      lastSeq: head.seq,
      lastHash: head.hash,
      prevCheckpointHash: previous?.hash ?? GENESIS_HASH,
      keyId: signingKey.keyId,
    };
    const signature = sign(null, Buffer.from(canonicalCheckpoint(payload), "utf8"), signingKey.privateKey).toString("base64");
    await tx.auditCheckpoint.create({ data: { ...payload, signature, hash: hashCheckpoint(payload, signature) } });
    return { number: payload.number, lastSeq: payload.lastSeq };
  });
}
