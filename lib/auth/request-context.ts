import { randomBytes } from "node:crypto";
import { env } from "../env";
import type { RequestContext } from "./actor";

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(h: HeaderSource, name: string): string | null {
  if (h instanceof Headers) return h.get(name);
  const v = h[name] ?? h[name.toLowerCase()];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

/**
 * The request's id, client address and user agent. scripts/start.ts rewrites X-Forwarded-For so its last entry is
 * the socket's peer; with TRUST_PROXY one reverse proxy is trusted and the entry it appended is the client.
 */
export function contextFromHeaders(h: HeaderSource): RequestContext {
  const hops = (header(h, "x-forwarded-for") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const index = env().TRUST_PROXY && hops.length >= 2 ? hops.length - 2 : hops.length - 1;
  const ip = hops[index]?.replace(/^::ffff:/, "") ?? null;
  const userAgent = header(h, "user-agent")?.slice(0, 512) ?? null;
  return { requestId: header(h, "x-request-id") ?? randomBytes(8).toString("hex"), ip, userAgent };
}
