// The agent's side of the agent API: typed calls validated with the same zod contract the server uses, with
// retries and jittered backoff for the network and the server's bad moments. A refusal (4xx) is never retried:
// LEASE_LOST in particular means "stop working on this job".
import type { z } from "zod";
import {
  AGENT_API_PATHS,
  type TClaimResponse,
  type TEnrollRequest,
  type TEnrollResponse,
  type THeartbeatRequest,
  type TStepLogRequest,
  type TStepReport,
  type TStepReportResponse,
  type TWhoAmIResponse,
  ZAgentErrorSchema,
  ZClaimResponseSchema,
  ZEnrollResponseSchema,
  ZHeartbeatResponseSchema,
  ZStepReportResponseSchema,
  ZWhoAmIResponseSchema,
} from "../../lib/contracts/agent-api";
import { describeFetchError } from "./fetch-error";

export class AgentApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AgentApiError";
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/** Exponential backoff with full jitter, capped: thousands of agents coming back after an outage spread out. */
export const backoffMs = (attempt: number, capMs = 30_000) => Math.random() * Math.min(capMs, 500 * 2 ** attempt);

export class AgentApi {
  constructor(
    readonly server: string,
    private readonly secret: string | null,
  ) {}

  private async call<S extends z.ZodType>(path: string, body: unknown, schema: S, options: { retries?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<z.infer<S>> {
    const retries = options.retries ?? 5;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        const signals = [AbortSignal.timeout(options.timeoutMs ?? 30_000), ...(options.signal ? [options.signal] : [])];
        response = await fetch(new URL(path, this.server), {
          method: "POST",
          headers: { "content-type": "application/json", ...(this.secret ? { authorization: `Bearer ${this.secret}` } : {}) },
          body: JSON.stringify(body),
          signal: AbortSignal.any(signals),
        });
      } catch (err) {
        if (options.signal?.aborted) throw err;
        if (attempt >= retries) throw new Error(`could not reach ${this.server}: ${describeFetchError(err)}`, { cause: err });
        await sleep(backoffMs(attempt), options.signal);
        continue;
      }
      if (response.ok) return schema.parse(await response.json());
      const text = await response.text();
      const parsed = ZAgentErrorSchema.safeParse(safeJson(text));
      const error = parsed.success
        ? new AgentApiError(response.status, parsed.data.error.code, parsed.data.error.message)
        : new AgentApiError(response.status, "HTTP_" + response.status, text.slice(0, 200) || response.statusText);
      if (response.status < 500 && response.status !== 429) throw error;
      if (attempt >= retries) throw error;
      await sleep(backoffMs(attempt), options.signal);
    }
  }

  enroll(request: TEnrollRequest): Promise<TEnrollResponse> {
    return this.call(AGENT_API_PATHS.enroll, request, ZEnrollResponseSchema, { retries: 2 });
  }
  heartbeat(request: THeartbeatRequest) {
    return this.call(AGENT_API_PATHS.heartbeat, request, ZHeartbeatResponseSchema, { retries: 1 });
  }
  /** For `status`: one quick try, so a person waiting at the shell gets the answer, not a retry loop. */
  whoami(): Promise<TWhoAmIResponse> {
    return this.call(AGENT_API_PATHS.whoami, {}, ZWhoAmIResponseSchema, { retries: 0, timeoutMs: 10_000 });
  }
  /** Long-poll: the request stays open up to waitSeconds; the HTTP timeout leaves room beyond it. */
  claim(waitSeconds: number, signal?: AbortSignal): Promise<TClaimResponse> {
    return this.call(AGENT_API_PATHS.claim, { waitSeconds }, ZClaimResponseSchema, { retries: 0, timeoutMs: (waitSeconds + 15) * 1000, ...(signal ? { signal } : {}) });
  }
  report(stepId: string, report: TStepReport): Promise<TStepReportResponse> {
    return this.call(AGENT_API_PATHS.report(stepId), report, ZStepReportResponseSchema, { retries: 8 });
  }
  logs(stepId: string, request: TStepLogRequest): Promise<TStepReportResponse> {
    return this.call(AGENT_API_PATHS.logs(stepId), request, ZStepReportResponseSchema, { retries: 3 });
  }
  /** For downloads: the absolute URL and the header that authenticates it. */
  artifact(downloadPath: string): { url: string; headers: Record<string, string> } {
    return { url: new URL(downloadPath, this.server).toString(), headers: this.secret ? { authorization: `Bearer ${this.secret}` } : {} };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
