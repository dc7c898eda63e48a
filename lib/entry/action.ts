import "server-only";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { recordDenial } from "../audit/record-denial";
import type { UserActor } from "../auth/actor";
import { requireActor } from "../auth/current-actor";
import { isAppError } from "../errors";
import { log } from "../log";
import { formDataToObject } from "../util/form-data";
import type { ActionResult } from "./action-result";

const SIGNED_OUT = "You are signed out (in another tab, or your session ended), so nothing was done. Sign in again in a new tab, then send this form again.";

interface ActionOptions {
  /** Name for logs and the audit record of a denial, e.g. "grant-role". */
  name: string;
  /** Actions a person who must still choose a password may take (only the password change itself). */
  allowPasswordChange?: boolean;
}

type Handler<S extends z.ZodType, T> = (input: z.infer<S>, actor: UserActor) => Promise<{ message?: string; data?: T } | void>;

/**
 * The one wrapper for server actions: establishes the actor (who), parses input with zod, runs the domain function
 * (which decides "may they"), and maps every outcome to an ActionResult. Bad input and expected errors come back as
 * readable messages; anything else is logged with a request id and reported generically. A denial is audited.
 */
export async function runAction<S extends z.ZodType, T = undefined>(
  options: ActionOptions,
  schema: S,
  formData: FormData,
  handler: Handler<S, T>,
): Promise<ActionResult<T>> {
  let actor: UserActor;
  try {
    actor = await requireActor();
  } catch {
    // Signed out meanwhile (another tab, the session's end): a redirect would drop the page and what was typed.
    return { ok: false, error: SIGNED_OUT };
  }
  if (actor.mustChangePassword && !options.allowPasswordChange) {
    return { ok: false, error: "Choose your own password first." };
  }
  const parsed = schema.safeParse(formDataToObject(formData));
  if (!parsed.success) {
    const fieldErrors = z.flattenError(parsed.error).fieldErrors as Record<string, string[]>;
    const first = parsed.error.issues[0];
    return { ok: false, error: first ? `Check the form: ${first.message}` : "Check the form.", fieldErrors };
  }
  try {
    const result = await handler(parsed.data, actor);
    revalidatePath("/", "layout");
    return { ok: true, ...(result ?? {}) };
  } catch (e) {
    if (isAppError(e)) {
      if (e.code === "UNAUTHENTICATED") return { ok: false, error: SIGNED_OUT };
      if (e.code === "FORBIDDEN") await recordDenial(actor, options.name, e);
      // Refused because of the state (another tab or person acted first): the page re-reads it, the form keeps
      // what was typed and says why.
      const stale = e.code === "CONFLICT" || e.code === "PRECONDITION_FAILED";
      // A field the domain refused (a check that needs the database, like a balancer's kind) reads like one the
      // form's own schema refused.
      const field = e.code === "INVALID_INPUT" ? Object.values(e.fieldErrors ?? {})[0]?.[0] : undefined;
      return { ok: false, error: field ? `Check the form: ${field}` : e.message, ...(e.fieldErrors ? { fieldErrors: e.fieldErrors } : {}), ...(stale ? { stale: true as const } : {}) };
    }
    log.error({ err: e, requestId: actor.ctx.requestId, action: options.name, userId: actor.id }, "action failed");
    return { ok: false, error: `Something went wrong on our side. Reference: ${actor.ctx.requestId}` };
  }
}
