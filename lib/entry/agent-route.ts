import "server-only";
import { z } from "zod";
import { type AuthenticatedAgent, authenticateAgent } from "../agents/authenticate-agent";
import type { RequestContext } from "../auth/actor";
import { contextFromHeaders } from "../auth/request-context";
import { AppError } from "../errors";
import { errorResponse } from "./route";

const MAX_JSON_BYTES = 256 * 1024;

async function readJson(request: Request): Promise<unknown> {
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > MAX_JSON_BYTES) throw new AppError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_JSON_BYTES} bytes.`);
  const text = await request.text();
  if (text.length > MAX_JSON_BYTES) throw new AppError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_JSON_BYTES} bytes.`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError("INVALID_INPUT", "The request body is not valid JSON.");
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new AppError("INVALID_INPUT", first ? `${first.path.join(".") || "body"}: ${first.message}` : "Invalid request.", {
      fieldErrors: z.flattenError(parsed.error).fieldErrors as Record<string, string[]>,
    });
  }
  return parsed.data;
}

/**
 * The wrapper for agent API calls made with the agent's bearer secret (never a session cookie): authenticates the
 * agent, parses the JSON body with the contract's zod schema, maps errors through the status table.
 */
export function agentRoute<S extends z.ZodType>(bodySchema: S, handler: (body: z.infer<S>, agent: AuthenticatedAgent, request: Request) => Promise<unknown>) {
  return async (request: Request): Promise<Response> => {
    const ctx = contextFromHeaders(request.headers);
    try {
      const agent = await authenticateAgent(request.headers.get("authorization"), ctx);
      const body = parse(bodySchema, await readJson(request));
      return Response.json(await handler(body, agent, request));
    } catch (e) {
      return errorResponse(e, ctx.requestId);
    }
  };
}

/** For the one unauthenticated agent call, enrollment: the credential is the one-time token in the body. */
export function enrollmentRoute<S extends z.ZodType>(bodySchema: S, handler: (body: z.infer<S>, ctx: RequestContext) => Promise<unknown>) {
  return async (request: Request): Promise<Response> => {
    const ctx = contextFromHeaders(request.headers);
    try {
      const body = parse(bodySchema, await readJson(request));
      return Response.json(await handler(body, ctx), { status: 201 });
    } catch (e) {
      return errorResponse(e, ctx.requestId);
    }
  };
}
