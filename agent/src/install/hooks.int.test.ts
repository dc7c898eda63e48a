// runHook with real shells and process groups; checkHealth against a real local HTTP server.
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkHealth, HealthCheckError, HookFailedError, runHook } from "./hooks";
import { makeTempDir } from "./test-fixtures";

let work: { dir: string; cleanup: () => Promise<void> };
const leftovers: number[] = [];

beforeEach(async () => {
  work = await makeTempDir("rg-hooks-");
});
afterEach(async () => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone: what the test wanted
    }
  }
  await work.cleanup();
});

/** Alive and not a zombie (a zombie is dead but waits for a parent that may never reap it in a container). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function eventuallyDead(pid: number, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await delay(20);
  }
  return !isAlive(pid);
}

async function readPid(file: string): Promise<number> {
  const pid = Number((await fs.readFile(file, "utf8")).trim());
  leftovers.push(pid);
  return pid;
}

describe("runHook", () => {
  it("streams stdout and stderr line by line while the hook runs", async () => {
    const seen: { line: string; at: number }[] = [];
    const started = Date.now();
    await runHook({
      name: "migrate",
      command: "echo one; sleep 0.4; echo two >&2; printf 'three'",
      cwd: work.dir,
      timeoutSeconds: 10,
      onOutput: (line) => seen.push({ line, at: Date.now() - started }),
    });
    const finished = Date.now() - started;
    expect(seen.map((s) => s.line)).toEqual(["one", "two", "three"]);
    // "one" arrived before the hook's sleep was over, not in a batch at the end.
    expect(finished - seen[0]!.at).toBeGreaterThanOrEqual(300);
  });

  it("runs in the given directory with the release variables added to the agent's environment", async () => {
    const lines: string[] = [];
    await runHook({
      name: "start",
      command: 'echo "$RELEASEGATE_RELEASE_VERSION in $(pwd)"; test -n "$PATH" && echo has-path',
      cwd: work.dir,
      env: { RELEASEGATE_RELEASE_VERSION: "1.2.3" },
      timeoutSeconds: 10,
      onOutput: (line) => lines.push(line),
    });
    expect(lines).toEqual([`1.2.3 in ${await fs.realpath(work.dir)}`, "has-path"]);
  });

  it("fails with the exit code and the last output lines", async () => {
    const error = await runHook({
      name: "migrate",
      command: "for i in $(seq 1 30); do echo line $i; done; printf 'relation users does not exist' >&2; exit 3",
      cwd: work.dir,
      timeoutSeconds: 10,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HookFailedError);
    const failure = error as HookFailedError;
    expect(failure.exitCode).toBe(3);
    expect(failure.message).toMatch(/^Hook "migrate" exited with code 3\.\nLast output:\n/);
    // The last line has no newline and still makes it into the message.
    expect(failure.message.endsWith("line 30\nrelation users does not exist")).toBe(true);
    expect(failure.message).not.toContain("line 21\n");
    expect(failure.lastLines).toHaveLength(10);
  });

  it("on timeout kills the whole process group, grandchildren too, escalating to SIGKILL", async () => {
    const pidFile = path.join(work.dir, "bg.pid");
    const stubbornFile = path.join(work.dir, "stubborn.pid");
    const started = Date.now();
    const error = await runHook({
      name: "stop",
      // One background child that dies on SIGTERM, one that ignores it; the shell waits for both.
      command: `sleep 100 & echo $! > ${pidFile}; (trap '' TERM; exec sleep 100) & echo $! > ${stubbornFile}; wait`,
      cwd: work.dir,
      timeoutSeconds: 0.5,
      killGraceMs: 300,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(HookFailedError);
    expect((error as Error).message).toMatch(/^Hook "stop" timed out after 0\.5s\./);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await eventuallyDead(await readPid(pidFile))).toBe(true);
    expect(await eventuallyDead(await readPid(stubbornFile))).toBe(true);
  });

  it("stops the hook when the signal aborts", async () => {
    const pidFile = path.join(work.dir, "bg.pid");
    const controller = new AbortController();
    const running = runHook({
      name: "backup",
      command: `sleep 100 & echo $! > ${pidFile}; wait`,
      cwd: work.dir,
      timeoutSeconds: 60,
      signal: controller.signal,
      killGraceMs: 300,
    });
    await delay(200);
    controller.abort();
    await expect(running).rejects.toThrow(/^Hook "backup" was cancelled\./);
    expect(await eventuallyDead(await readPid(pidFile))).toBe(true);
  });

  it("returns when the hook exits even if it left a background process holding the output open", async () => {
    const pidFile = path.join(work.dir, "daemon.pid");
    const started = Date.now();
    await runHook({
      name: "start",
      command: `sleep 30 & echo $! > ${pidFile}; echo started`,
      cwd: work.dir,
      timeoutSeconds: 10,
    });
    expect(Date.now() - started).toBeLessThan(3000);
    // A daemon the start hook launched is the application, not something to kill.
    expect(isAlive(await readPid(pidFile))).toBe(true);
  });
});

describe("checkHealth", () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serve(answer: (index: number) => { status: number; body: string }): Promise<string> {
    let index = 0;
    server = http.createServer((_req, res) => {
      const { status, body } = answer(index++);
      res.writeHead(status, { "content-type": "application/json" }).end(body);
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  }

  it("polls until the node answers 2xx with the expected version", async () => {
    const url = await serve((i) =>
      i < 2 ? { status: 503, body: "starting" } : i < 3 ? { status: 200, body: '{"version":"1.0.0"}' } : { status: 200, body: '{"version":"1.1.0"}' },
    );
    const result = await checkHealth({ url, expectVersion: "1.1.0", timeoutSeconds: 5, intervalMs: 20 });
    expect(result).toEqual({ attempts: 4, status: 200 });
  });

  it("fails with the last answer when the version never shows up", async () => {
    const url = await serve(() => ({ status: 200, body: '{"version":"1.0.0"}' }));
    const error = await checkHealth({ url, expectVersion: "1.1.0", timeoutSeconds: 0.3, intervalMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HealthCheckError);
    expect((error as Error).message).toMatch(
      /^Health check http:\/\/127\.0\.0\.1:\d+\/health did not pass within 0\.3s \(\d+ attempts\); last: HTTP 200 without version "1\.1\.0" in the body: \{"version":"1\.0\.0"\}$/,
    );
  });

  it("fails with the last status, or the connection error, when the node is down", async () => {
    const url = await serve(() => ({ status: 502, body: "Bad Gateway" }));
    await expect(checkHealth({ url, timeoutSeconds: 0.2, intervalMs: 50 })).rejects.toThrow(/last: HTTP 502: Bad Gateway$/);

    server?.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    await expect(checkHealth({ url, timeoutSeconds: 0.2, intervalMs: 50 })).rejects.toThrow(/last: ECONNREFUSED/);
  });

  it("says why a URL cannot be fetched at all, not fetch's own 'fetch failed'", async () => {
    // A port fetch refuses to use: its error has no code, only the cause's words.
    await expect(checkHealth({ url: "http://127.0.0.1:1/health", timeoutSeconds: 0.2, intervalMs: 50 })).rejects.toThrow(/last: bad port$/);
  });

  it("fails after N answers in a row with a 5xx status, without waiting for the timeout", async () => {
    let probes = 0;
    const url = await serve(() => (probes++, { status: 500, body: "broken 2.2.0" }));
    const logs: string[] = [];
    const error = await checkHealth({ url, timeoutSeconds: 5, intervalMs: 20, failAfter5xx: 3, fiveXxIntervalMs: 50, onLog: (l) => logs.push(l) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HealthCheckError);
    expect((error as Error).message).toMatch(/^Health check http:\/\/127\.0\.0\.1:\d+\/health answered HTTP 500 3 times in a row over \d+\.\d s: broken 2\.2\.0$/);
    expect(probes).toBe(3);
    expect(logs).toEqual([
      expect.stringMatching(/: HTTP 500 \(1 of 3 in a row before the build counts as failed\)$/),
      expect.stringMatching(/: HTTP 500 \(2 of 3 in a row before the build counts as failed\)$/),
      expect.stringMatching(/: HTTP 500 \(3 of 3 in a row before the build counts as failed\)$/),
    ]);
  });

  it("starts the count again after any other answer, so a node that recovers passes", async () => {
    const answers = [500, 503, 200, 502, 500, 200, 200].map((status, i) => ({ status, body: i >= 5 ? '{"version":"2.0.0"}' : "warming up" }));
    let probes = 0;
    const url = await serve((i) => (probes++, answers[i] ?? { status: 200, body: '{"version":"2.0.0"}' }));
    const result = await checkHealth({ url, expectVersion: "2.0.0", timeoutSeconds: 5, intervalMs: 20, failAfter5xx: 3, fiveXxIntervalMs: 20 });
    expect(result).toEqual({ attempts: 6, status: 200 });
    expect(probes).toBe(6);
  });

  it("with 0, 5xx answers do not end it early: it waits for the timeout as before", async () => {
    const url = await serve(() => ({ status: 500, body: "broken" }));
    await expect(checkHealth({ url, timeoutSeconds: 0.3, intervalMs: 20, failAfter5xx: 0 })).rejects.toThrow(/did not pass within 0\.3s \(\d+ attempts\); last: HTTP 500: broken$/);
  });
});
