import "server-only";
import { z } from "zod";
import { recordDenial } from "../audit/record-denial";
import type { UserActor } from "../auth/actor";
import { requireActor } from "../auth/current-actor";
import { AppError, isAppError } from "../errors";
import { errorResponse } from "./http";

/**
 * The one wrapper for route handlers used by signed-in people (browser session): establishes the actor, parses the
 * query string with zod, and maps errors through the status table. The domain function decides what is allowed.
 */
export function sessionRoute<S extends z.ZodType>(
  querySchema: S,
  handler: (query: z.infer<S>, actor: UserActor, request: Request) => Promise<Response>,
) {
  return async (request: Request): Promise<Response> => {
    let actor: UserActor | undefined;
    try {
      actor = await requireActor();
      if (actor.mustChangePassword) throw new AppError("FORBIDDEN", "Choose your own password first.");
      const params = Object.fromEntries(new URL(request.url).searchParams);
      const parsed = querySchema.safeParse(params);
      if (!parsed.success) {
        const fieldErrors = z.flattenError(parsed.error).fieldErrors as Record<string, string[]>;
        throw new AppError("INVALID_INPUT", parsed.error.issues[0]?.message ?? "Invalid query.", { fieldErrors });
      }
      return await handler(parsed.data, actor, request);
    } catch (e) {
      if (actor && isAppError(e) && e.code === "FORBIDDEN") await recordDenial(actor, `${request.method} ${new URL(request.url).pathname}`, e);
      return errorResponse(e, actor?.ctx.requestId ?? "unknown");
    }
  };
}

/**
 * The wrapper for the few route handlers anyone may call without signing in (protocol discovery): no actor, only the
 * status table for errors. What such a handler answers must hold no secret and no state of anyone's.
 */
export function publicRoute(handler: (request: Request) => Promise<Response>) {
  return async (request: Request): Promise<Response> => {
    try {
      return await handler(request);
    } catch (e) {
      return errorResponse(e, request.headers.get("x-request-id") ?? "unknown");
    }
  };
}
