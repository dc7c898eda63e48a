import { type NextRequest, NextResponse } from "next/server";
import { newNonce, pageSecurityHeaders } from "./lib/entry/security-headers";
import { env } from "./lib/env";

// Runs before every page (not the API, static files or prefetches: see config): gives each response a fresh CSP
// nonce and the page headers of lib/entry/security-headers.ts. Next reads the nonce from the Content-Security-Policy
// request header and puts it on its own scripts while rendering (which is why every page renders per request: the
// root layout asks for it). Only headers here: who may see a page is decided by the page itself (lib/entry/page.ts).
export function proxy(request: NextRequest): NextResponse {
  const e = env();
  const headers = pageSecurityHeaders({
    nonce: newNonce(),
    https: (e.NEXTAUTH_URL ?? "").startsWith("https://"),
    development: e.NODE_ENV === "development",
  });
  const forwarded = new Headers(request.headers);
  for (const [name, value] of Object.entries(headers)) forwarded.set(name, value);
  const response = NextResponse.next({ request: { headers: forwarded } });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

export const config = {
  matcher: [
    {
      // Not /api: JSON, streams and uploads (a proxy makes Next buffer request bodies, which multi-gigabyte uploads
      // must never be); they carry next.config.mjs's headers. Not Next's static files or the icons either.
      source: "/((?!api/|_next/static|_next/image|favicon\\.ico|icon\\.svg).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
