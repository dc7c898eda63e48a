import { afterEach, describe, expect, it, vi } from "vitest";

// lib/env.ts parses process.env once per process and caches it. Each test sets TRUST_PROXY first and then imports
// a fresh copy of the module graph, so the setting under test is the one env() reads.
async function load(trustProxy: string | undefined) {
  vi.stubEnv("TRUST_PROXY", trustProxy);
  vi.resetModules();
  return (await import("./request-context")).contextFromHeaders;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("contextFromHeaders without TRUST_PROXY", () => {
  it("takes the last X-Forwarded-For entry (the socket peer written by scripts/start.ts)", async () => {
    const contextFromHeaders = await load(undefined);
    expect(contextFromHeaders({ "x-forwarded-for": "203.0.113.9" }).ip).toBe("203.0.113.9");
  });

  it("ignores entries a client prepended to spoof its address", async () => {
    const contextFromHeaders = await load("false");
    expect(contextFromHeaders({ "x-forwarded-for": "1.2.3.4, 10.0.0.7" }).ip).toBe("10.0.0.7");
    expect(contextFromHeaders(new Headers({ "x-forwarded-for": "1.2.3.4,5.6.7.8 , 10.0.0.7" })).ip).toBe("10.0.0.7");
  });

  it("strips the IPv4-mapped IPv6 prefix", async () => {
    const contextFromHeaders = await load(undefined);
    expect(contextFromHeaders({ "x-forwarded-for": "::ffff:127.0.0.1" }).ip).toBe("127.0.0.1");
    expect(contextFromHeaders({ "x-forwarded-for": "::1" }).ip).toBe("::1");
  });

  it("has no address when the header is missing or empty", async () => {
    const contextFromHeaders = await load(undefined);
    expect(contextFromHeaders({}).ip).toBeNull();
    expect(contextFromHeaders({ "x-forwarded-for": " , " }).ip).toBeNull();
    expect(contextFromHeaders(new Headers()).ip).toBeNull();
  });
});

describe("contextFromHeaders with TRUST_PROXY", () => {
  it("takes the entry the trusted proxy appended (second to last)", async () => {
    const contextFromHeaders = await load("true");
    expect(contextFromHeaders({ "x-forwarded-for": "198.51.100.23, 10.0.0.2" }).ip).toBe("198.51.100.23");
  });

  it("still ignores anything the client put in front of the proxy's entry", async () => {
    const contextFromHeaders = await load("1");
    expect(contextFromHeaders({ "x-forwarded-for": "6.6.6.6, 198.51.100.23, 10.0.0.2" }).ip).toBe("198.51.100.23");
  });

  it("falls back to the only entry when the request did not pass a proxy", async () => {
    const contextFromHeaders = await load("yes");
    expect(contextFromHeaders({ "x-forwarded-for": "10.0.0.2" }).ip).toBe("10.0.0.2");
  });

  it("strips the IPv4-mapped prefix from the client entry", async () => {
    const contextFromHeaders = await load("true");
    expect(contextFromHeaders({ "x-forwarded-for": "::ffff:198.51.100.23, ::ffff:10.0.0.2" }).ip).toBe("198.51.100.23");
  });
});

describe("contextFromHeaders: request id and user agent", () => {
  it("uses X-Request-Id when present, else a fresh random id", async () => {
    const contextFromHeaders = await load(undefined);
    expect(contextFromHeaders({ "x-request-id": "abc123" }).requestId).toBe("abc123");
    const a = contextFromHeaders({}).requestId;
    const b = contextFromHeaders({}).requestId;
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
  });

  it("reads the user agent and caps it at 512 characters", async () => {
    const contextFromHeaders = await load(undefined);
    expect(contextFromHeaders({ "user-agent": "Mozilla/5.0" }).userAgent).toBe("Mozilla/5.0");
    expect(contextFromHeaders({ "user-agent": "x".repeat(2000) }).userAgent).toHaveLength(512);
    expect(contextFromHeaders({}).userAgent).toBeNull();
  });

  it("reads the first value of a header given as an array (Node's IncomingHttpHeaders)", async () => {
    const contextFromHeaders = await load(undefined);
    expect(contextFromHeaders({ "user-agent": ["first", "second"] }).userAgent).toBe("first");
  });

  it("reads a Headers object case-insensitively", async () => {
    const contextFromHeaders = await load(undefined);
    const ctx = contextFromHeaders(new Headers({ "X-Forwarded-For": "192.0.2.1", "User-Agent": "curl/8", "X-Request-Id": "rid" }));
    expect(ctx).toEqual({ ip: "192.0.2.1", userAgent: "curl/8", requestId: "rid" });
  });
});
