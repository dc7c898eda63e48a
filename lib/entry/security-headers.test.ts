import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, HSTS, newNonce, pageSecurityHeaders } from "./security-headers";

const directives = (csp: string) => new Map(csp.split("; ").map((d) => [d.split(" ")[0]!, d.split(" ").slice(1).join(" ")]));

describe("page security headers", () => {
  it("lets only scripts with this response's nonce run, never inline code or eval in production", () => {
    const d = directives(contentSecurityPolicy({ nonce: "abc123==", https: false, development: false }));
    expect(d.get("script-src")).toBe("'self' 'nonce-abc123==' 'strict-dynamic'");
    expect(d.get("object-src")).toBe("'none'");
    expect(d.get("base-uri")).toBe("'self'");
    expect([...d.values()].join(" ")).not.toMatch(/unsafe-eval|\*/);
    expect(d.get("style-src")).toBe("'self' 'nonce-abc123=='");
  });

  it("loads images only from this origin (no tracking pixels), connects only here, and may not be framed", () => {
    const d = directives(contentSecurityPolicy({ nonce: "n", https: false, development: false }));
    expect(d.get("img-src")).toBe("'self' data: blob:");
    expect(d.get("connect-src")).toBe("'self'");
    expect(d.get("frame-ancestors")).toBe("'none'");
    expect(d.get("form-action")).toBe("'self'");
  });

  it("adds HSTS and upgrades sub-requests only when the public URL is https (on plain http they would break the app)", () => {
    expect(pageSecurityHeaders({ nonce: "n", https: false, development: false })).not.toHaveProperty("Strict-Transport-Security");
    expect(contentSecurityPolicy({ nonce: "n", https: false, development: false })).not.toContain("upgrade-insecure-requests");
    const https = pageSecurityHeaders({ nonce: "n", https: true, development: false });
    expect(https["Strict-Transport-Security"]).toBe(HSTS);
    expect(https["Content-Security-Policy"]).toContain("upgrade-insecure-requests");
  });

  it("allows eval only on the development server", () => {
    expect(contentSecurityPolicy({ nonce: "n", https: false, development: true })).toContain("'unsafe-eval'");
  });

  it("makes a new 128-bit nonce each time", () => {
    const a = newNonce();
    expect(Buffer.from(a, "base64")).toHaveLength(16);
    expect(newNonce()).not.toBe(a);
  });
});
