// A verification worker thread (started by verify-database.ts through verify-worker.mjs). Reads the batches it is
// sent from the database, in the snapshot of the main thread's transaction, and answers with their summaries.
import { parentPort, workerData } from "node:worker_threads";
import pg from "pg";
import { type BatchRequest, checkBatch } from "./verify-batch";
import type { KnownHashes } from "./verify-chain";
import { RAW_TEXT } from "./event-rows";
import { copyOutOn } from "./verify-database";

export interface VerifyWorkerData {
  module: string;
  url: string;
  snapshot: string;
  expectedAt: KnownHashes;
  /** Whether the fast path may run (verify-batch.ts checkBatch). */
  fast: boolean;
}

export type VerifyWorkerReply = Awaited<ReturnType<typeof checkBatch>> | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error("verify-worker.ts runs only as a worker thread");
const data = workerData as VerifyWorkerData;
const client = new pg.Client({ connectionString: data.url, types: RAW_TEXT });
const ready = (async () => {
  await client.connect();
  // The main thread's snapshot, so every worker sees exactly the rows the main thread read the checkpoints with.
  if (!/^[0-9A-F-]+$/i.test(data.snapshot)) throw new Error(`unexpected snapshot id ${data.snapshot}`);
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  await client.query(`SET TRANSACTION SNAPSHOT '${data.snapshot}'`);
})();
const copy = copyOutOn(client);

// The main thread terminates the worker when done; its connection closes with it.
port.on("message", (message: BatchRequest) => {
  ready
    .then(() => checkBatch(copy, message, data.expectedAt, data.fast))
    .then(
      (summary) => port.postMessage(summary satisfies VerifyWorkerReply),
      (e: unknown) => port.postMessage({ id: message.id, error: e instanceof Error ? e.message : String(e) } satisfies VerifyWorkerReply),
    );
});
