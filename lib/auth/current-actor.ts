import "server-only";
import { decode } from "next-auth/jwt";
import { cache } from "react";
import { cookies, headers } from "next/headers";
import { env } from "../env";
import { AppError } from "../errors";
import type { RequestContext, UserActor } from "./actor";
import { claimsFromToken } from "./auth-options";
import { contextFromHeaders } from "./request-context";
import { loadSessionActor, type SessionClaims } from "./session";

// next-auth names its cookie after the scheme of NEXTAUTH_URL.
export const SESSION_COOKIES = ["__Secure-next-auth.session-token", "next-auth.session-token"] as const;

export async function currentRequestContext(): Promise<RequestContext> {
  return contextFromHeaders(await headers());
}

export async function currentSessionClaims(): Promise<SessionClaims | null> {
  const jar = await cookies();
  const raw = SESSION_COOKIES.map((n) => jar.get(n)?.value).find(Boolean);
  if (!raw) return null;
  try {
    return claimsFromToken(await decode({ token: raw, secret: env().NEXTAUTH_SECRET ?? "" }));
  } catch {
    return null; // tampered, or signed with an old secret
  }
}

/** The signed-in person of this request, checked against the database (once per request), or null. */
export const getCurrentActor = cache(async (): Promise<UserActor | null> => {
  const claims = await currentSessionClaims();
  if (!claims) return null;
  return loadSessionActor(claims, await currentRequestContext());
});

/** For server actions and route handlers: the actor, or UNAUTHENTICATED. */
export async function requireActor(): Promise<UserActor> {
  const actor = await getCurrentActor();
  if (!actor) throw new AppError("UNAUTHENTICATED", "Your session has ended. Sign in again.");
  return actor;
}
