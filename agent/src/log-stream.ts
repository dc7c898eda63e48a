// A step's output on its way to the server: lines are buffered and cut into numbered chunks (seq 0, 1, 2, ...) at
// most every FLUSH_MS or CHUNK_BYTES, each carrying the number of its first line, and sent in order, one request at
// a time. The server stores each seq once, so a chunk resent after a lost response does no harm. The agent's own
// log gets every line too.
//
// While the control plane cannot be reached, chunks wait here, in order, and go out when it answers again. The wait
// is bounded: past `maxUnsentBytes` of unsent text the oldest chunks never tried are dropped, and the next request
// says which ones (`lost`), so the deployment page marks the hole instead of showing a log that silently skips.
// The newest chunk is never dropped, so there is always a later request to carry that news.
import type { TStepLogRequest } from "../../lib/contracts/agent-api";
import { type AgentApi, AgentApiError, backoffMs } from "./api-client";

const FLUSH_MS = 300;
const CHUNK_BYTES = 32 * 1024;
/** One request's chunks: within the contract's 64 and well under the server's 256 KiB body limit once JSON-escaped. */
const MAX_CHUNKS_PER_REQUEST = 64;
const MAX_REQUEST_TEXT = 96 * 1024;
/** Unsent log kept per step while the control plane is unreachable (RELEASEGATE_LOG_BUFFER_BYTES overrides it). */
export const DEFAULT_MAX_UNSENT_BYTES = 4 * 1024 * 1024;

interface Chunk {
  seq: number;
  line: number;
  text: string;
  /** Sent at least once: the server may hold it, so it is never reported lost. */
  tried: boolean;
}

/** A dropped range; once it went out in a request it is not extended (the server keeps the first report of a seq). */
type LostRange = NonNullable<TStepLogRequest["lost"]>[number] & { sent?: boolean };

/** The cap from the environment, or the default; a value that is not a positive number is ignored. */
export function maxUnsentBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.RELEASEGATE_LOG_BUFFER_BYTES);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : DEFAULT_MAX_UNSENT_BYTES;
}

export class StepLogStream {
  private buffer = "";
  private bufferLines = 0;
  private seq = 0;
  private nextLine = 1;
  private readonly queue: Chunk[] = [];
  private queuedBytes = 0;
  /** Dropped ranges not yet acknowledged by the server. */
  private lost: LostRange[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sender: Promise<void> | null = null;
  /** The server refused this step's logs for good (lease lost, step unknown): nothing more is sent. */
  private refused = false;
  private readonly maxUnsentBytes: number;
  /** Set when the server answered that ops asked the deployment to stop. */
  cancelRequested = false;

  constructor(
    private readonly api: AgentApi,
    private readonly stepId: string,
    private readonly leaseId: string,
    private readonly echo: (line: string) => void,
    options: { maxUnsentBytes?: number } = {},
  ) {
    this.maxUnsentBytes = options.maxUnsentBytes ?? maxUnsentBytesFromEnv();
  }

  line(text: string): void {
    const stamped = `${new Date().toISOString().slice(11, 23)} ${text}`;
    this.echo(stamped);
    this.buffer += `${stamped}\n`;
    this.bufferLines += 1 + (text.match(/\n/g)?.length ?? 0);
    if (this.buffer.length >= CHUNK_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /**
   * Sends what is buffered; resolves when everything written so far reached the server (or was given up on: refused,
   * or dropped past the cap). While the control plane is unreachable this waits for it to come back.
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer) {
      const chunk = { seq: this.seq++, line: this.nextLine, text: this.buffer, tried: false };
      this.nextLine += this.bufferLines;
      this.buffer = "";
      this.bufferLines = 0;
      if (!this.refused) {
        this.queue.push(chunk);
        this.queuedBytes += chunk.text.length;
        this.dropOverCap();
      }
    }
    this.sender ??= this.send().finally(() => (this.sender = null));
    return this.sender;
  }

  /** Past the cap, the oldest chunks never tried go (not the newest: its request will report the loss). */
  private dropOverCap(): void {
    while (this.queuedBytes > this.maxUnsentBytes) {
      const at = this.queue.findIndex((c, i) => !c.tried && i < this.queue.length - 1);
      if (at < 0) return;
      const [gone] = this.queue.splice(at, 1) as [Chunk];
      this.queuedBytes -= gone.text.length;
      const last = this.lost.at(-1);
      if (last && !last.sent && last.toSeq + 1 === gone.seq) last.toSeq = gone.seq;
      else {
        this.lost.push({ fromSeq: gone.seq, toSeq: gone.seq, fromLine: gone.line });
        this.echo(`(the control plane is unreachable and ${this.maxUnsentBytes} bytes of this step's log wait unsent: dropping the oldest, from line ${gone.line})`);
      }
    }
  }

  private async send(): Promise<void> {
    for (let failures = 0; this.queue.length > 0 && !this.refused; ) {
      const batch: Chunk[] = [];
      let bytes = 0;
      for (const c of this.queue) {
        if (batch.length === MAX_CHUNKS_PER_REQUEST || (batch.length > 0 && bytes + c.text.length > MAX_REQUEST_TEXT)) break;
        batch.push(c);
        bytes += c.text.length;
      }
      const lost = this.lost.slice(0, 64);
      for (const c of batch) c.tried = true;
      for (const x of lost) x.sent = true;
      try {
        const r = await this.api.logs(this.stepId, {
          leaseId: this.leaseId,
          chunks: batch.map((c) => ({ seq: c.seq, line: c.line, text: c.text })),
          ...(lost.length ? { lost: lost.map(({ fromSeq, toSeq, fromLine }) => ({ fromSeq, toSeq, fromLine })) } : {}),
        });
        this.cancelRequested ||= r.cancelRequested;
        this.queue.splice(0, batch.length);
        this.queuedBytes -= bytes;
        this.lost = this.lost.filter((x) => !lost.includes(x));
        failures = 0;
      } catch (err) {
        if (err instanceof AgentApiError && err.status < 500 && err.status !== 429) {
          // Refused for good (the lease is gone, the step unknown): logs are best effort and must not block the job.
          this.echo(`(the control plane refused this step's log from chunk ${batch[0]!.seq} on: ${err.message})`);
          this.refused = true;
          this.queue.length = 0;
          this.queuedBytes = 0;
          return;
        }
        // Unreachable or failing: keep everything, in order, and try again; the agent's own log has every line.
        failures++;
        if (failures === 1) this.echo(`(could not send log chunk ${batch[0]!.seq}: ${(err as Error).message}; keeping the log until the control plane answers)`);
        await new Promise((r) => setTimeout(r, backoffMs(failures, 10_000)));
      }
    }
  }
}
