// Verifies the audit chain straight from PostgreSQL. Events arrive by binary COPY (verify-batch.ts) and their hashes
// are recomputed from the row bytes (canonical-writer.ts), in this thread or spread over worker threads.
// Gives exactly verifyChain's answers (verify-database.int.test.ts compares them on tampered databases).
import type { KeyObject } from "node:crypto";
import { Worker } from "node:worker_threads";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { GENESIS_HASH } from "./chain";
import { RAW_TEXT, readCheckpoints, type RawQuery } from "./event-rows";
import { type BatchRequest, type BatchSummary, checkBatch, type CopyOut } from "./verify-batch";
import { type Anchors, checkCheckpoints, checkEnd, checkEventOrder, type KnownHashes, type StoredCheckpoint, type VerifyResult } from "./verify-chain";
import type { VerifyWorkerData, VerifyWorkerReply } from "./verify-worker";

export interface VerifyDatabaseOptions {
  /**
   * Worker threads, each with its own connection and a batch of events at a time; 0 (the default) reads the whole
   * chain with one COPY and checks it in this thread, PostgreSQL producing rows while this thread checks them. On two
   * cores two workers were 10-20% faster when nothing else ran and no faster under other load (bench/audit.ts,
   * docs/benchmarks.md); one thread keeps the command simple and its speed predictable. Workers pay off where there
   * are cores to spare for them and their backends.
   */
  workers?: number;
  /** Events per batch sent to a worker. */
  batchSize?: number;
  /** Hashes the chain must have at these seqs (`--anchor`). */
  anchors?: Anchors;
}

// Two batches queued per worker, so its PostgreSQL backend produces the next while the worker checks this one.
const IN_FLIGHT_PER_WORKER = 2;

/** A COPY on `client`, as a stream of its data. */
export const copyOutOn =
  (client: pg.Client): CopyOut =>
  (sql) =>
    client.query(copyTo(sql));

export async function verifyDatabase(url: string, key: { publicKey: KeyObject; keyId: string }, options: VerifyDatabaseOptions = {}): Promise<VerifyResult> {
  const client = new pg.Client({ connectionString: url, types: RAW_TEXT });
  await client.connect();
  try {
    // Checkpoint times are read as text: pin the format they are parsed in (event-rows.ts), whatever the server's default.
    await client.query("SET DateStyle = 'ISO, YMD'");
    // One snapshot for the whole run (shared with any workers), so events written meanwhile do not race the
    // checkpoint reads and every batch sees the same chain.
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const query: RawQuery = async (sql, params) => (await client.query(sql, params)).rows as Record<string, unknown>[];
    const checkpoints = checkCheckpoints(await readCheckpoints(query), key.publicKey, key.keyId, options.anchors);
    if (!checkpoints.ok) return checkpoints;
    const [encoding] = await query(`SELECT current_setting('server_encoding') AS "encoding"`, []);
    const fast = encoding?.encoding === "UTF8";
    const join = new ChainJoin(checkpoints.sorted, checkpoints.expectedAt);
    const workerCount = options.workers ?? 0;
    if (workerCount === 0) {
      return join.add(await checkBatch(copyOutOn(client), { id: 0, after: 0n, limit: null }, checkpoints.expectedAt, fast))!;
    }
    const [top] = await query(`SELECT pg_export_snapshot() AS "snapshot"`, []);
    const workerData: VerifyWorkerData = {
      module: new URL("./verify-worker.ts", import.meta.url).href,
      url,
      snapshot: String(top!.snapshot),
      expectedAt: checkpoints.expectedAt,
      fast,
    };
    const batchSize = options.batchSize ?? 50_000;
    const workers = Array.from({ length: workerCount }, () => new Worker(new URL("./verify-worker.mjs", import.meta.url), { workerData }));
    try {
      return await new Promise<VerifyResult>((resolve, reject) => {
        // Batches go out in seq order, assuming no gaps (batch n holds the batchSize events after n * batchSize).
        // A gap shifts the rows a batch gets, but the batch that holds it reports it, as verifyChain would. Sending
        // stops once a batch came back short: nothing lies beyond it.
        let nextToSend = 0;
        let ended = false;
        const send = (w: Worker) => {
          if (ended) return;
          const request: BatchRequest = { id: nextToSend, after: BigInt(nextToSend) * BigInt(batchSize), limit: batchSize };
          w.postMessage(request);
          nextToSend += 1;
        };
        for (const w of workers) {
          w.on("message", (reply: VerifyWorkerReply) => {
            if ("error" in reply) return reject(new Error(reply.error));
            if (!reply.full) ended = true;
            send(w);
            const result = join.add(reply);
            if (result) resolve(result);
          });
          w.on("error", reject);
          w.on("exit", (code) => reject(new Error(`a verification worker stopped early (exit code ${code})`)));
          for (let i = 0; i < IN_FLIGHT_PER_WORKER; i++) send(w);
        }
      });
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  } finally {
    await client.query("COMMIT").catch(() => undefined);
    await client.end();
  }
}

/**
 * verifyChain's sequential state, advanced a whole batch at a time and strictly in seq order, whatever order the
 * batches arrive in. `add` returns the result once it is known (the first problem, or the end: the first batch that
 * came back short), else null.
 */
class ChainJoin {
  private expectedSeq = 1n;
  private prevHash = GENESIS_HASH;
  private count = 0;
  private nextToCheck = 0;
  private readonly arrived = new Map<number, BatchSummary>();

  constructor(
    private readonly checkpoints: StoredCheckpoint[],
    private readonly expectedAt: KnownHashes,
  ) {}

  add(summary: BatchSummary): VerifyResult | null {
    this.arrived.set(summary.id, summary);
    for (let b = this.arrived.get(this.nextToCheck); b; b = this.arrived.get(this.nextToCheck)) {
      this.arrived.delete(this.nextToCheck);
      this.nextToCheck += 1;
      const order = b.first ? checkEventOrder(b.first, this.expectedSeq, this.prevHash) : null;
      if (order) return { ok: false, events: this.count, ...order };
      if (b.problem) {
        const { index, ...problem } = b.problem;
        return { ok: false, events: this.count + index, ...problem };
      }
      if (b.last) {
        this.expectedSeq = b.last.seq + 1n;
        this.prevHash = b.last.hash;
      }
      this.count += b.count;
      if (!b.full) return checkEnd(this.checkpoints, this.count, this.expectedSeq, this.expectedAt);
    }
    return null;
  }
}
