import "server-only";
import { redirect } from "next/navigation";
import { z } from "zod";
import { recordDenial } from "../audit/record-denial";
import type { UserActor } from "../auth/actor";
import { getCurrentActor } from "../auth/current-actor";
import { isAppError } from "../errors";
import { notFound } from "next/navigation";

/**
 * For server-rendered pages: the signed-in actor, or a redirect to sign in. A person with a generated password
 * is sent to choose their own before anything else.
 */
export async function requirePageActor(options: { allowPasswordChange?: boolean } = {}): Promise<UserActor> {
  const actor = await getCurrentActor();
  if (!actor) redirect("/signin");
  if (actor.mustChangePassword && !options.allowPasswordChange) redirect("/account/password");
  return actor;
}

/**
 * Runs a domain read for a page; NOT_FOUND and FORBIDDEN render the 404 page, revealing nothing. A FORBIDDEN is
 * audited as a denial (`what` names the page).
 */
export async function loadForPage<T>(read: () => Promise<T>, what = "a page"): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (isAppError(e) && e.code === "FORBIDDEN") {
      const actor = await getCurrentActor();
      if (actor) await recordDenial(actor, `to open ${what}`, e);
    }
    if (isAppError(e) && (e.code === "NOT_FOUND" || e.code === "FORBIDDEN")) notFound();
    throw e;
  }
}

const ZRouteId = z.uuid();

/**
 * A page's route segments, every one an id. Ids come from URLs people type and edit: one that is not a UUID
 * renders the 404 page, as for one that names nothing (it would otherwise reach PostgreSQL as a malformed uuid).
 */
export async function pageIds<P extends Record<string, string>>(params: Promise<P>): Promise<P> {
  const ids = await params;
  if (!Object.values(ids).every((id) => ZRouteId.safeParse(id).success)) notFound();
  return ids;
}
