import "server-only";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { z } from "zod";
import { type AuthenticatedAgent, authenticateAgent } from "../agents/authenticate-agent";
import type { RequestContext } from "../auth/actor";
import { contextFromHeaders } from "../auth/request-context";
import { AGENT_API_PREFIX } from "../contracts/agent-api";
import { AppError, isAppError } from "../errors";
import { log } from "../log";
import { parseInput } from "../validation";
import { type ErrorBody, MAX_JSON_BYTES } from "./http";

// The one wrapper for the agent API. It is served on node:http by the control plane's own server (server/), not by
// Next's request pipeline: a fleet keeps thousands of long-polls open, and each one held through Next cost about
// 0.7 MB and a share of CPU (docs/benchmarks.md, "Agent API at scale"). The wrapper establishes *who* calls (the
// agent's bearer secret, never a session cookie; or, for enrollment, the one-time token in the body), parses the
// JSON body with the contract's zod schema, and maps errors through the one status table. The domain decides the rest.

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

/** What a handler learns about the request: only what agent calls need, so a held long-poll keeps little alive. */
export interface AgentRequest {
  method: string;
  headers: IncomingHttpHeaders;
  /** Aborted when the client goes away before the answer (ends a long-poll's wait). */
  signal: AbortSignal;
}

interface Call<P extends string, B> {
  body: B;
  params: Record<P, string>;
  ctx: RequestContext;
  request: AgentRequest;
}

/** Every agent call but enrollment: the agent is known. */
export type AgentCall<P extends string, B> = Call<P, B> & { agent: AuthenticatedAgent };

type PathParams<Path extends string> = Path extends `${string}:${infer Param}/${infer Rest}`
  ? Param | PathParams<`/${Rest}`>
  : Path extends `${string}:${infer Param}`
    ? Param
    : never;

interface EndpointSpec<Path extends string, S extends z.ZodType | null> {
  methods: readonly ("GET" | "HEAD" | "POST")[];
  /** Below AGENT_API_PREFIX; `:name` is a path segment handed to the handler. */
  path: Path;
  /** The JSON body's schema, or null for calls without a body (downloads). */
  body: S;
  /** The status of a successful JSON answer (default 200). */
  status?: number;
}

export interface AgentEndpoint {
  methods: readonly string[];
  pattern: RegExp;
  names: string[];
  run(req: IncomingMessage, res: ServerResponse, params: Record<string, string>): Promise<void>;
}

function compile(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split("/")
    .map((segment) => (segment.startsWith(":") ? (names.push(segment.slice(1)), "([^/]+)") : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return { pattern: new RegExp(`^${AGENT_API_PREFIX}${source}$`), names };
}

function endpoint<Path extends string, S extends z.ZodType | null>(
  spec: EndpointSpec<Path, S>,
  authenticate: boolean,
  handler: (call: AgentCall<PathParams<Path>, Infer<S>>) => Promise<unknown>,
): AgentEndpoint {
  const { pattern, names } = compile(spec.path);
  return {
    methods: spec.methods,
    pattern,
    names,
    async run(req, res, params) {
      const ctx = contextFromHeaders(req.headers);
      try {
        const agent = authenticate ? await authenticateAgent(req.headers.authorization ?? null, ctx) : undefined;
        const body = spec.body ? parseInput(spec.body, await readJsonBody(req)) : undefined;
        const controller = new AbortController();
        res.once("close", () => {
          if (!res.writableFinished) controller.abort();
        });
        const request: AgentRequest = { method: req.method ?? "GET", headers: req.headers, signal: controller.signal };
        // Generic parameters cannot be narrowed by the checks above; the values match them by construction.
        const call = { body: body as Infer<S>, params: params as Record<PathParams<Path>, string>, ctx, request, agent: agent as AuthenticatedAgent };
        const result = await handler(call);
        if (result instanceof Response) await sendResponse(res, result);
        else sendJson(res, spec.status ?? 200, result);
      } catch (e) {
        sendError(req, res, e, ctx.requestId);
      }
    },
  };
}

/** An agent call made with the agent's bearer secret (`Authorization: Bearer rga_…`). */
export function agentEndpoint<Path extends string, S extends z.ZodType | null>(
  spec: EndpointSpec<Path, S>,
  handler: (call: AgentCall<PathParams<Path>, Infer<S>>) => Promise<unknown>,
): AgentEndpoint {
  return endpoint(spec, true, handler);
}

/** The one call without a secret, enrollment: its credential is the one-time token in the body. */
export function enrollmentEndpoint<Path extends string, S extends z.ZodType>(
  spec: EndpointSpec<Path, S>,
  handler: (call: Call<PathParams<Path>, Infer<S>>) => Promise<unknown>,
): AgentEndpoint {
  return endpoint(spec, false, handler);
}

/**
 * The node:http handler for every path below AGENT_API_PREFIX: the endpoint that matches, 405 for a known path
 * with another method, 404 for anything else, always with a JSON error body.
 */
export function serveAgentApi(endpoints: AgentEndpoint[]): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const pathname = (req.url ?? "/").split("?")[0]!;
    let pathMatched = false;
    for (const e of endpoints) {
      const m = e.pattern.exec(pathname);
      if (!m) continue;
      pathMatched = true;
      if (!e.methods.includes(req.method ?? "")) continue;
      const params: Record<string, string> = {};
      for (const [i, name] of e.names.entries()) {
        const value = decodePathSegment(m[i + 1]!);
        // A malformed escape names nothing that exists: answered as any unknown id is.
        if (value === null) return sendJson(res, 404, { error: { code: "NOT_FOUND", message: "Not found." } } satisfies ErrorBody);
        params[name] = value;
      }
      return e.run(req, res, params);
    }
    if (pathMatched) {
      res.setHeader("allow", [...new Set(endpoints.filter((e) => e.pattern.test(pathname)).flatMap((e) => e.methods))].join(", "));
      return sendJson(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: `${req.method} is not supported here.` } } satisfies ErrorBody);
    }
    sendJson(res, 404, { error: { code: "NOT_FOUND", message: `No agent API endpoint at ${pathname}.` } } satisfies ErrorBody);
  };
}

/** A path segment's percent-decoded text, or null when it is not valid percent-encoding ("%E0%A4%A"). */
function decodePathSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/**
 * Reads a JSON body of at most MAX_JSON_BYTES, counting as it reads: a client that omits or understates
 * Content-Length is cut off at the limit instead of filling memory.
 */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const tooLarge = () => new AppError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_JSON_BYTES} bytes.`);
  if (Number(req.headers["content-length"] ?? "0") > MAX_JSON_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new AppError("INVALID_INPUT", "The request body is not valid JSON.");
  }
}

const JSON_HEADERS = { "content-type": "application/json", "x-content-type-options": "nosniff", "cache-control": "no-store" };

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (res.destroyed) return;
  const body = JSON.stringify(value);
  res.writeHead(status, { ...JSON_HEADERS, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Writes a fetch Response (a download) to node:http, streaming its body with backpressure. */
async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) return void res.end();
  // Node's and the DOM's declarations of the WHATWG ReadableStream differ; at run time it is the same class.
  await pipeline(Readable.fromWeb(response.body as unknown as import("node:stream/web").ReadableStream), res).catch(() => {
    // The agent went away mid-download: it resumes with Range on its next attempt.
  });
}

function sendError(req: IncomingMessage, res: ServerResponse, e: unknown, requestId: string): void {
  // The agent hung up (restart, timeout) before we answered: nobody is left to tell, and nothing went wrong here.
  if (req.destroyed && !isAppError(e)) return void res.destroy();
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A refused call may leave its body unread: close the connection after answering, so the client sees the answer
  // instead of stalling on a body nobody reads.
  if (!req.complete) res.setHeader("connection", "close");
  if (isAppError(e)) {
    const error = { code: e.code, message: e.message, ...(e.fieldErrors ? { fieldErrors: e.fieldErrors } : {}) };
    return sendJson(res, e.status, { error } satisfies ErrorBody);
  }
  log.error({ err: e, requestId }, "agent API call failed");
  sendJson(res, 500, { error: { code: "INTERNAL", message: "Something went wrong on our side.", requestId } } satisfies ErrorBody);
}
