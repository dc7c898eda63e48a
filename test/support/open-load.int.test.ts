// The load generator must see every failure (or a zero-failure result proves nothing) and keep its schedule.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "./haproxy";
import { startOpenLoad } from "./open-load";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("startOpenLoad", () => {
  it("refuses non-loopback targets, other schemes and rates above 500/s", () => {
    expect(() => startOpenLoad({ url: "http://10.0.0.1:8080", ratePerSecond: 10 })).toThrow(/non-loopback host 10\.0\.0\.1/);
    expect(() => startOpenLoad({ url: "http://example.com", ratePerSecond: 10 })).toThrow(/non-loopback/);
    expect(() => startOpenLoad({ url: "https://127.0.0.1", ratePerSecond: 10 })).toThrow(/only http/);
    expect(() => startOpenLoad({ url: "http://127.0.0.1:1", ratePerSecond: 501 })).toThrow(/rate must be/);
    expect(() => startOpenLoad({ url: "http://127.0.0.1:1", ratePerSecond: 0 })).toThrow(/rate must be/);
  });

  it("counts non-2xx answers and reset connections as failures, and versions from the body", async () => {
    const url = await serve((req, res) => {
      if (req.url === "/reset") return req.socket.destroy();
      if (req.url === "/fail") return res.writeHead(503).end("down");
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ version: "7.1.0" }));
    });
    const load = startOpenLoad({ url, ratePerSecond: 200, paths: ["/ok", "/fail", "/reset"] });
    await sleep(500);
    const summary = await load.stop();

    const byPath = (p: string) => load.results().filter((r) => r.path === p).length;
    expect(summary.ok).toBe(byPath("/ok"));
    expect(summary.versionsSeen).toEqual({ "7.1.0": byPath("/ok") });
    expect(summary.failures.filter((f) => f.path === "/fail").every((f) => f.status === 503)).toBe(true);
    expect(summary.failures.filter((f) => f.path === "/reset").every((f) => f.error === "ECONNRESET")).toBe(true);
    expect(summary.failed).toBe(byPath("/fail") + byPath("/reset"));
    expect(summary.sent).toBe(summary.ok + summary.failed);
  });

  it("counts refused connections", async () => {
    const load = startOpenLoad({ url: `http://127.0.0.1:${await freePort()}`, ratePerSecond: 100 });
    await sleep(200);
    const summary = await load.stop();
    expect(summary.sent).toBeGreaterThan(10);
    expect(summary.ok).toBe(0);
    expect(new Set(summary.failures.map((f) => f.error))).toEqual(new Set(["ECONNREFUSED"]));
  });

  it("keeps sending on schedule while the server stalls (open model), and counts requests cut by a timeout", async () => {
    const arrivals: number[] = [];
    const url = await serve((_req, res) => {
      arrivals.push(Date.now());
      setTimeout(() => res.end("{}"), 1_500);
    });
    const started = Date.now();
    const load = startOpenLoad({ url, ratePerSecond: 100, timeoutMs: 1_000 });
    await sleep(1_000);
    const summary = await load.stop();

    // A closed loop of 16 clients would have sent 16 requests in this second; the server got one every 10 ms.
    expect(arrivals.filter((t) => t - started < 1_100).length).toBeGreaterThanOrEqual(90);
    expect(summary.ok).toBe(0);
    expect(summary.failed).toBe(summary.sent);
    expect(new Set(summary.failures.map((f) => f.error))).toEqual(new Set(["ETIMEDOUT"]));
  });
});
