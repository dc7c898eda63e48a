// A step's output on its way to the server: lines are buffered and sent in numbered chunks (seq 0, 1, 2, ...)
// at most every FLUSH_MS or CHUNK_BYTES, in order, one request at a time. The server stores each seq once, so a
// chunk resent after a lost response does no harm. The agent's own log gets every line too.
import type { AgentApi } from "./api-client";

const FLUSH_MS = 300;
const CHUNK_BYTES = 32 * 1024;

export class StepLogStream {
  private buffer = "";
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();
  /** Set when the server answered that ops asked the deployment to stop. */
  cancelRequested = false;

  constructor(
    private readonly api: AgentApi,
    private readonly stepId: string,
    private readonly leaseId: string,
    private readonly echo: (line: string) => void,
  ) {}

  line(text: string): void {
    const stamped = `${new Date().toISOString().slice(11, 23)} ${text}`;
    this.echo(stamped);
    this.buffer += `${stamped}\n`;
    if (this.buffer.length >= CHUNK_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Sends what is buffered; resolves when everything written so far reached the server (or was given up on). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer) {
      const text = this.buffer;
      this.buffer = "";
      const seq = this.seq++;
      this.sending = this.sending.then(async () => {
        try {
          const r = await this.api.logs(this.stepId, { leaseId: this.leaseId, chunks: [{ seq, text }] });
          this.cancelRequested ||= r.cancelRequested;
        } catch (err) {
          // Logs are best effort: losing a chunk must not fail the deployment. The agent's own log has the line.
          this.echo(`(could not send log chunk ${seq}: ${(err as Error).message})`);
        }
      });
    }
    return this.sending;
  }
}
