import "server-only";
import { z } from "zod";
import { type AuthenticatedAgent, authenticateAgent } from "../agents/authenticate-agent";
import type { RequestContext } from "../auth/actor";
import { contextFromHeaders } from "../auth/request-context";
import { errorResponse, parseInput as parse, readJson } from "./route";

/**
 * The wrapper for agent API calls made with the agent's bearer secret (never a session cookie): authenticates the
 * agent, parses the JSON body with the contract's zod schema, maps errors through the status table.
 */
export function agentRoute<S extends z.ZodType, P extends Record<string, string> = Record<string, never>>(
  bodySchema: S,
  handler: (body: z.infer<S>, agent: AuthenticatedAgent, request: Request, params: P) => Promise<unknown>,
) {
  return async (request: Request, context: { params: Promise<P> }): Promise<Response> => {
    const ctx = contextFromHeaders(request.headers);
    try {
      const agent = await authenticateAgent(request.headers.get("authorization"), ctx);
      const body = parse(bodySchema, await readJson(request));
      const params = await context.params;
      return Response.json(await handler(body, agent, request, params));
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
