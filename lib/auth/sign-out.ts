import "server-only";
import { cookies } from "next/headers";
import { currentRequestContext, currentSessionClaims, SESSION_COOKIES } from "./current-actor";
import { revokeSession } from "./session";

/** Revokes this browser's server-side session (audited) and clears its cookies. */
export async function signOutCurrentSession(): Promise<void> {
  const claims = await currentSessionClaims();
  if (claims) await revokeSession(claims, await currentRequestContext());
  const jar = await cookies();
  for (const name of SESSION_COOKIES) jar.delete(name);
}
