import "server-only";
import { env } from "../env";
import { log } from "../log";
import { runPeriodically } from "../util/periodic";
import { auditSigningKey, createCheckpoint, signingKeyPath } from "./create-checkpoint";

/**
 * Writes a signed checkpoint now (creating the signing key on the very first start) and then every
 * AUDIT_CHECKPOINT_INTERVAL_SECONDS while the server runs. Every instance runs one; they take turns on a lock, and
 * a run with no new events writes nothing.
 */
export async function startCheckpointTimer(): Promise<void> {
  const key = await auditSigningKey();
  log.info({ keyPath: signingKeyPath(), keyId: key.keyId }, "audit checkpoints signed with this key");
  const tick = async () => {
    const c = await createCheckpoint();
    if (c) log.info({ checkpoint: c.number.toString(), lastSeq: c.lastSeq.toString() }, "audit checkpoint signed");
  };
  const failed = (err: unknown) => log.error({ err }, "audit checkpoint failed");
  await tick().catch(failed);
  runPeriodically("audit checkpoints", env().AUDIT_CHECKPOINT_INTERVAL_SECONDS * 1000, tick, failed);
}
