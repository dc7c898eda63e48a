import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { env } from "../env";
import { isAppError } from "../errors";
import { log } from "../log";
import type { RequestContext } from "./actor";
import { revokeSession, type SessionClaims } from "./session";
import { signInWithPassword } from "./sign-in-with-password";

// next-auth's credentials provider requires JWT sessions. The JWT only names a server-side session
// (AuthSession) and the user's session version; lib/auth/session.ts checks both on every request, which gives
// instant revocation on sign-out, disable and password change.

/**
 * next-auth's options for one request (app/api/auth/[...nextauth]/route.ts makes them per request). Its events are
 * handed no request, so the request's context is bound here: a sign-out is audited with the caller's address and
 * browser, as a sign-in is.
 */
export function authOptionsFor(ctx: RequestContext): NextAuthOptions {
  return {
    secret: env().NEXTAUTH_SECRET,
    session: { strategy: "jwt", maxAge: env().SESSION_MAX_AGE_HOURS * 3600 },
    pages: { signIn: "/signin", error: "/signin" },
    providers: [
      CredentialsProvider({
        id: "credentials",
        name: "Email and password",
        credentials: { email: { type: "email" }, password: { type: "password" } },
        async authorize(credentials) {
          try {
            const r = await signInWithPassword(credentials, ctx);
            return { id: r.userId, sid: r.sessionId, sv: r.sessionVersion };
          } catch (e) {
            // next-auth hands this message to the sign-in form; only expected errors carry a message worth showing.
            if (isAppError(e)) throw new Error(e.message);
            log.error({ err: e, requestId: ctx.requestId }, "sign-in failed unexpectedly");
            throw new Error(`Sign-in is unavailable right now (reference ${ctx.requestId}).`);
          }
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user) {
          const u = user as unknown as { id: string; sid: string; sv: number };
          token.uid = u.id;
          token.sid = u.sid;
          token.sv = u.sv;
        }
        return token;
      },
      session({ session, token }) {
        // The browser sees only the user id; names and roles come from server components.
        return { expires: session.expires, user: { id: typeof token.uid === "string" ? token.uid : "" } } as typeof session;
      },
    },
    events: {
      async signOut({ token }) {
        const claims = claimsFromToken(token);
        if (claims) await revokeSession(claims, ctx);
      },
    },
    logger: {
      error: (code, metadata) => log.error({ code, metadata }, "next-auth error"),
      warn: (code) => log.warn({ code }, "next-auth warning"),
      debug: () => undefined,
    },
  };
}

export function claimsFromToken(token: unknown): SessionClaims | null {
  if (typeof token !== "object" || token === null) return null;
  const t = token as Record<string, unknown>;
  return typeof t.uid === "string" && typeof t.sid === "string" && typeof t.sv === "number"
    ? { uid: t.uid, sid: t.sid, sv: t.sv }
    : null;
}
