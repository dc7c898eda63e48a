// The browser-side defences every page response carries (set by proxy.ts for each page request; next.config.mjs
// adds the ones that never change to every response). Pure: no server-only import, as proxy.ts is bundled apart.

export interface PageSecurityOptions {
  /** A fresh random value per response: the only inline and bootstrap scripts that run are those carrying it. */
  nonce: string;
  /** The public URL is https: browsers are told to use nothing else, and to upgrade any http sub-request. */
  https: boolean;
  /** Next's development server needs eval for its error overlay and fast refresh (never in production). */
  development: boolean;
}

/**
 * The Content-Security-Policy of a page. Scripts: only Next's own, which carry the nonce, and what they load
 * ('strict-dynamic'), so an injected <script> or event handler does not run. Images only from this origin (and
 * data:/blob: URLs it makes itself): nothing a page shows can call out to a tracker, whatever Markdown someone wrote
 * (components/markdown.tsx does not render images either). Connections (SSE, uploads, fetches) only to this origin.
 * Nobody may frame a page (clickjacking), and forms post only here.
 * Style attributes are allowed ('unsafe-inline' in style-src-attr only): React renders computed widths (progress
 * bars) as style attributes, which cannot run code; <style> elements need the nonce like scripts.
 */
export function contentSecurityPolicy(o: PageSecurityOptions): string {
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${o.nonce}' 'strict-dynamic'${o.development ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' 'nonce-${o.nonce}'`,
    `style-src-elem 'self' 'nonce-${o.nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "frame-src 'none'",
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    ...(o.https ? ["upgrade-insecure-requests"] : []),
  ];
  return directives.join("; ");
}

/** One year, this host and its subdomains; no preload (that is a decision for whoever owns the domain). */
export const HSTS = "max-age=31536000; includeSubDomains";

/** The headers a page response carries besides those next.config.mjs sets on everything. */
export function pageSecurityHeaders(o: PageSecurityOptions): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(o),
    ...(o.https ? { "Strict-Transport-Security": HSTS } : {}),
  };
}

/** 128 random bits, base64: a nonce-source as CSP spells it. */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString("base64");
}
