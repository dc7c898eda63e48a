import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { authOptionsFor } from "@/lib/auth/auth-options";
import { contextFromHeaders } from "@/lib/auth/request-context";

// next-auth's options are made per request, so its sign-in and its sign-out event see who calls (address, browser).
function handler(request: NextRequest, context: { params: Promise<{ nextauth: string[] }> }) {
  return NextAuth(request, context, authOptionsFor(contextFromHeaders(request.headers))) as Promise<Response>;
}

export { handler as GET, handler as POST };
