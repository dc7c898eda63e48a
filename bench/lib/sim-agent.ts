// A simulated agent: the real HTTP protocol of the agent API (lib/contracts/agent-api.ts, every answer parsed with
// the shared zod schemas), without a node behind it. It heartbeats on a jittered timer and long-polls
// POST /jobs/claim; a job is a no-op: RUNNING then SUCCEEDED at once, and the node "holds" the release afterwards
// (the next heartbeats report it live/staged, as a real agent would, which also beats once right after a job).
// Failures are retried as the real agent does (agent/src/api-client.ts: network errors and 5xx only, exponential
// backoff with full jitter; heartbeat 1 retry, claim none, report 8), and a failed claim waits its backoff too.
// Every failed attempt counts as an error, retried or not.
// Thousands of them share one keep-alive connection pool in one process. Every failure is counted by kind;
// 409 LEASE_LOST is expected and counted apart.
import http from "node:http";
import type { z } from "zod";
import {
  AGENT_API_PATHS,
  type TJob,
  ZClaimResponseSchema,
  ZEnrollResponseSchema,
  ZHeartbeatResponseSchema,
  ZStepReportResponseSchema,
} from "../../lib/contracts/agent-api";
import { backoffMs } from "../../agent/src/api-client";

const AGENT_VERSION = "bench-sim-0.1";

/**
 * Node's global fetch is undici, but the undici package (needed to give fetch a bigger pool) is not installed:
 * node:http with one keep-alive agent and no socket limit. `timeout` lets the agent apply the server's
 * `Keep-Alive: timeout=5` hint (it closes an idle socket a second before the server would).
 */
export function createHttpClient(baseUrl: string) {
  const base = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, timeout: 60_000, scheduling: "lifo" });
  const active = new Set<http.ClientRequest>();

  function post<T>(
    pathname: string,
    body: unknown,
    schema: z.ZodType<T>,
    options: { secret?: string; timeoutMs: number },
  ): Promise<{ status: number; data: T | null; error: { code: string; message: string } | null }> {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          method: "POST",
          path: pathname,
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": payload.length,
            ...(options.secret ? { authorization: `Bearer ${options.secret}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            active.delete(req);
            const status = res.statusCode ?? 0;
            let json: unknown;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
              return reject(new BenchError(`http:${status}:not-json`));
            }
            if (status >= 200 && status < 300) {
              const parsed = schema.safeParse(json);
              if (!parsed.success) return reject(new BenchError("schema"));
              return resolve({ status, data: parsed.data, error: null });
            }
            const e = (json as { error?: { code?: string; message?: string } }).error;
            resolve({ status, data: null, error: { code: e?.code ?? "?", message: e?.message ?? "" } });
          });
        },
      );
      active.add(req);
      req.setTimeout(options.timeoutMs, () => req.destroy(new BenchError("timeout")));
      req.on("error", (err: NodeJS.ErrnoException) => {
        active.delete(req);
        reject(err instanceof BenchError ? err : new BenchError(`network:${err.code ?? err.message}`));
      });
      req.end(payload);
    });
  }

  return {
    post,
    /** Sockets open to the server now (busy + idle). */
    sockets(): number {
      const count = (m: NodeJS.ReadOnlyDict<unknown[]>) => Object.values(m).reduce((n, l) => n + (l?.length ?? 0), 0);
      return count(agent.sockets) + count(agent.freeSockets);
    },
    /** Aborts everything in flight and closes every socket. */
    close(): void {
      for (const r of active) r.destroy(new BenchError("stopped"));
      active.clear();
      agent.destroy();
    },
  };
}
export type HttpClient = ReturnType<typeof createHttpClient>;

export class BenchError extends Error {
  constructor(readonly kind: string) {
    super(kind);
  }
}

/** Counters shared by a fleet of simulated agents. `record` gates the latency samples (the measured window). */
export class SimStats {
  record = false;
  readonly errors = new Map<string, number>();
  leaseLost = 0;
  heartbeats = 0;
  readonly heartbeatMs: number[] = [];
  /** Long-polls answered without a job (the wait ran out): one claim cycle each. */
  claimCycles = 0;
  jobs = 0;

  error(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  errorCount(): number {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }

  /** Counters only (latency arrays are kept): for "during the window" figures, subtract a snapshot. */
  snapshot() {
    return { errors: new Map(this.errors), leaseLost: this.leaseLost, heartbeats: this.heartbeats, claimCycles: this.claimCycles, jobs: this.jobs };
  }
}

export interface SimAgentOptions {
  client: HttpClient;
  stats: SimStats;
  secret: string;
  targetId: string;
  hostname: string;
  /** Mean heartbeat interval; each wait is drawn uniformly within ±10 %. */
  heartbeatSeconds: number;
  /** The first heartbeat is sent after a random delay below this (spreads a fleet's heartbeats). */
  firstHeartbeatWithinMs?: number;
  /** waitSeconds of every long-poll. */
  claimWaitSeconds: number;
  /** waitSeconds of the first long-poll (a fleet that started together would otherwise poll in lockstep). */
  firstClaimWaitSeconds?: number;
  onJob?: (agent: SimAgent, job: TJob, receivedAt: number) => void;
  /** Just before the SUCCEEDED report is sent (the next step of the rollout can only start after this). */
  onSucceededSent?: (agent: SimAgent, job: TJob, sentAt: number) => void;
  /** After the SUCCEEDED report was answered (the server has advanced the rollout by then). */
  onJobDone?: (agent: SimAgent, job: TJob, reportSentAt: number, answeredAt: number) => void;
}

export class SimAgent {
  /** A long-poll is open right now. */
  polling = false;
  /** Long-polls sent so far. */
  polls = 0;
  heartbeatsOk = 0;
  private stopped = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private liveReleaseId: string | null = null;
  private staged: string[] = [];

  constructor(readonly o: SimAgentOptions) {}

  get targetId(): string {
    return this.o.targetId;
  }

  start(): void {
    const first = Math.random() * (this.o.firstHeartbeatWithinMs ?? 0);
    this.heartbeatTimer = setTimeout(() => void this.beat(true), first);
    void this.pollLoop();
  }

  stop(): void {
    this.stopped = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
  }

  private fail(err: unknown): void {
    if (this.stopped) return;
    this.o.stats.error(err instanceof BenchError ? err.kind : `exception:${(err as Error).message}`);
  }

  /** One agent API call with the real agent's retry policy; a 4xx is answered, never retried. Throws when out of tries. */
  private async call<T>(pathname: string, body: unknown, schema: z.ZodType<T>, retries: number, timeoutMs: number) {
    for (let attempt = 0; ; attempt++) {
      let kind: string;
      try {
        const r = await this.o.client.post(pathname, body, schema, { secret: this.o.secret, timeoutMs });
        if (r.status < 500 && r.status !== 429) return r;
        kind = `http:${r.status}:${r.error?.code}`;
      } catch (err) {
        kind = err instanceof BenchError ? err.kind : `exception:${(err as Error).message}`;
      }
      if (this.stopped) throw new BenchError("stopped");
      this.fail(new BenchError(kind));
      if (attempt >= retries) throw new BenchError("counted");
      await new Promise((res) => setTimeout(res, backoffMs(attempt)));
    }
  }

  private async beat(schedule: boolean): Promise<void> {
    if (this.stopped) return;
    const { stats } = this.o;
    const t = performance.now();
    try {
      const r = await this.call(
        AGENT_API_PATHS.heartbeat,
        { agentVersion: AGENT_VERSION, hostname: this.o.hostname, liveReleaseId: this.liveReleaseId, stagedReleaseIds: this.staged },
        ZHeartbeatResponseSchema,
        1,
        30_000,
      );
      if (r.error) throw new BenchError(`http:${r.status}:${r.error.code}`);
      this.heartbeatsOk++;
      stats.heartbeats++;
      if (stats.record) stats.heartbeatMs.push(performance.now() - t);
    } catch (err) {
      if (!(err instanceof BenchError && err.kind === "counted")) this.fail(err);
    }
    if (this.stopped || !schedule) return;
    const next = this.o.heartbeatSeconds * 1000 * (0.9 + 0.2 * Math.random());
    this.heartbeatTimer = setTimeout(() => void this.beat(true), next);
  }

  private async pollLoop(): Promise<void> {
    let wait = this.o.firstClaimWaitSeconds ?? this.o.claimWaitSeconds;
    let failures = 0;
    while (!this.stopped) {
      let job: TJob | null = null;
      try {
        this.polling = true;
        this.polls++;
        const r = await this.call(AGENT_API_PATHS.claim, { waitSeconds: wait }, ZClaimResponseSchema, 0, (wait + 15) * 1000);
        this.polling = false;
        if (r.error) throw new BenchError(`http:${r.status}:${r.error.code}`);
        job = r.data!.job;
        if (!job) this.o.stats.claimCycles++;
        failures = 0;
      } catch (err) {
        this.polling = false;
        if (!(err instanceof BenchError && err.kind === "counted")) this.fail(err);
        await new Promise((res) => setTimeout(res, backoffMs(++failures)));
        continue;
      }
      wait = this.o.claimWaitSeconds;
      if (job) {
        await this.run(job, performance.now());
        void this.beat(false); // what the node runs now, without waiting for the next beat (as the real agent does)
      }
    }
  }

  /** A no-op node: acknowledge, then succeed at once. */
  private async run(job: TJob, receivedAt: number): Promise<void> {
    this.o.stats.jobs++;
    this.o.onJob?.(this, job, receivedAt);
    const report = async (status: "RUNNING" | "SUCCEEDED") => {
      const r = await this.call(
        AGENT_API_PATHS.report(job.stepId),
        { leaseId: job.leaseId, status, phase: status === "RUNNING" ? "no-op" : undefined },
        ZStepReportResponseSchema,
        8,
        30_000,
      );
      if (r.status === 409 && r.error?.code === "LEASE_LOST") {
        this.o.stats.leaseLost++;
        return false;
      }
      if (r.error) throw new BenchError(`http:${r.status}:${r.error.code}`);
      return true;
    };
    try {
      if (!(await report("RUNNING"))) return;
      const sentAt = performance.now();
      this.o.onSucceededSent?.(this, job, sentAt);
      if (!(await report("SUCCEEDED"))) return;
      if (job.action === "STAGE") this.staged = [...new Set([...this.staged, job.release.id])].slice(-5);
      else this.liveReleaseId = job.release.id;
      this.o.onJobDone?.(this, job, sentAt, performance.now());
    } catch (err) {
      if (!(err instanceof BenchError && err.kind === "counted")) this.fail(err);
    }
  }
}

/** Exchanges enrollment tokens for agent secrets over HTTP, `concurrency` at a time. Returns them in order. */
export async function enrollAgents(
  client: HttpClient,
  nodes: { token: string; hostname: string }[],
  concurrency = 8,
  onProgress?: (done: number) => void,
): Promise<{ targetId: string; agentSecret: string }[]> {
  const out: { targetId: string; agentSecret: string }[] = new Array(nodes.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < nodes.length) {
      const i = next++;
      const n = nodes[i]!;
      const r = await client.post(AGENT_API_PATHS.enroll, { token: n.token, hostname: n.hostname, agentVersion: AGENT_VERSION }, ZEnrollResponseSchema, { timeoutMs: 30_000 });
      if (!r.data) throw new Error(`enrolling ${n.hostname} failed: ${r.status} ${r.error?.code} ${r.error?.message}`);
      out[i] = { targetId: r.data.targetId, agentSecret: r.data.agentSecret };
      if (++done % 250 === 0) onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}
