import "server-only";
import { z } from "zod";
import { authenticateApiToken } from "../api-tokens/authenticate-api-token";
import { recordDenial } from "../audit/record-denial";
import type { ApiTokenActor } from "../auth/actor";
import { contextFromHeaders } from "../auth/request-context";
import { AppError, isAppError } from "../errors";
import { parseInput } from "../validation";
import { errorResponse, readJson } from "./http";

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface ApiRouteSpec<P extends z.ZodType, B extends z.ZodType | null, Q extends z.ZodType | null> {
  /** The path's dynamic segments. A malformed id answers 404, as an unknown one does. */
  params: P;
  /**
   * The JSON body's schema, or null when there is no JSON body: none at all (GET), or one the handler streams
   * itself from `request.body` (uploads), which the wrapper then leaves untouched.
   */
  body: B;
  /** The query string's schema, when the route takes one. */
  query?: Q;
  /** The status of a successful JSON answer (default 200). */
  status?: number;
}

export interface ApiCall<P, B, Q> {
  actor: ApiTokenActor;
  params: P;
  body: B;
  query: Q;
  request: Request;
}

/**
 * The one wrapper for /api/v1, the build pipelines' API: authenticates the bearer API token (a session cookie never
 * counts), parses path, query and size-limited JSON body with zod, and maps errors through the status table as JSON.
 * The handler returns a value to send as JSON, or a Response of its own (downloads). The domain function it calls
 * decides what the token may do; a refusal is audited.
 */
export function apiRoute<P extends z.ZodType, B extends z.ZodType | null, Q extends z.ZodType | null = null>(
  spec: ApiRouteSpec<P, B, Q>,
  handler: (call: ApiCall<z.infer<P>, Infer<B>, Infer<Q>>) => Promise<unknown>,
) {
  return async (request: Request, context: { params: Promise<Record<string, string | string[]>> }): Promise<Response> => {
    const ctx = contextFromHeaders(request.headers);
    let actor: ApiTokenActor | undefined;
    try {
      actor = await authenticateApiToken(request.headers.get("authorization"), ctx);
      const params = spec.params.safeParse(await context.params);
      if (!params.success) throw new AppError("NOT_FOUND", "Not found.");
      const query = spec.query ? parseInput(spec.query, Object.fromEntries(new URL(request.url).searchParams)) : undefined;
      const body = spec.body ? parseInput(spec.body, await readJson(request)) : undefined;
      // The generic parameters cannot be narrowed by the checks above; the values match them by construction.
      const result = await handler({ actor, params: params.data, body: body as Infer<B>, query: query as Infer<Q>, request });
      return result instanceof Response ? result : Response.json(result, { status: spec.status ?? 200 });
    } catch (e) {
      if (actor && isAppError(e) && e.code === "FORBIDDEN") await recordDenial(actor, `${request.method} ${new URL(request.url).pathname}`, e);
      const response = errorResponse(e, ctx.requestId);
      // A refused upload may leave most of its body unread: close the connection after answering, so the client
      // sees the answer instead of stalling on a body nobody reads.
      if (spec.body === null && request.method !== "GET" && request.method !== "HEAD") response.headers.set("connection", "close");
      return response;
    }
  };
}
