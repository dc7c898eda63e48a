// The sample app and its start/stop script, run the way an environment's hooks run them.
import fs from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tar from "tar";
import yauzl from "yauzl";
import { freePort } from "./haproxy";
import { buildSampleArtifact, SAMPLE_APP_DIR } from "./sample-artifact";
import { installSampleRelease, prepareSampleNodeDir, runShell, SAMPLE_APP_HOOKS, startSampleNode, type SampleNode } from "./sample-node";

let root: string;
const started: SampleNode[] = [];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "rg-sample-node-"));
});
afterAll(async () => {
  await Promise.allSettled(started.map((node) => node.stop()));
  await fs.rm(root, { recursive: true, force: true });
});

async function newNode(name: string, version?: string, brokenHealth?: boolean): Promise<SampleNode> {
  const node = await startSampleNode({ dir: path.join(root, name), port: await freePort(), version, brokenHealth });
  started.push(node);
  return node;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Gone, or a zombie waiting for PID 1 (which reaps late on these machines) to collect it. */
async function exited(pid: number): Promise<boolean> {
  if (!alive(pid)) return true;
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat === "" || / Z /.test(stat.slice(stat.lastIndexOf(")")));
}

describe("ctl.sh through the start/stop hooks", () => {
  it("starts the current release, is idempotent, and serves its version", async () => {
    const node = await newNode("basic", "1.2.3");
    const pid = await node.pid();
    expect(pid).not.toBeNull();
    expect(await (await fetch(`${node.url}/version`)).json()).toEqual({ version: "1.2.3" });
    const health = await fetch(`${node.url}/health`);
    expect([health.status, await health.text()]).toEqual([200, "ok 1.2.3\n"]);
    const page = await fetch(`${node.url}/`);
    expect(page.headers.get("x-app-version")).toBe("1.2.3");
    expect(await page.text()).toContain('<strong id="version">1.2.3</strong>');

    const again = await node.start();
    expect(again.stdout).toMatch(/already running \(pid \d+\)/);
    expect(await node.pid()).toBe(pid);
    const status = await runShell("sh current/ctl.sh status", { cwd: node.dir });
    expect([status.code, status.stdout]).toEqual([0, `sample-app: running (pid ${pid})\n`]);
  });

  it("stops gracefully: the request in flight completes, idle keep-alive connections are closed", async () => {
    const node = await newNode("graceful", "1.0.0");
    const pid = (await node.pid())!;
    const agent = new http.Agent({ keepAlive: true });
    const idle = await new Promise<net.Socket>((resolve, reject) => {
      let socket: net.Socket | undefined;
      http
        .get(`${node.url}/version`, { agent }, (res) => {
          res.resume();
          res.on("end", () => (socket ? resolve(socket) : reject(new Error("no socket"))));
        })
        .on("socket", (s) => (socket = s))
        .on("error", reject);
    });
    const idleClosed = new Promise<void>((resolve) => idle.once("close", () => resolve()));
    const slow = fetch(`${node.url}/slow?ms=800`).then(async (res) => ({ status: res.status, body: await res.json(), connection: res.headers.get("connection") }));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const stopped = await node.stop();
    expect(stopped.stdout).toMatch(new RegExp(`stopped \\(pid ${pid}\\)`));
    expect(await slow).toEqual({ status: 200, body: { version: "1.0.0", sleptMs: 800 }, connection: "close" });
    await idleClosed;
    expect(await exited(pid)).toBe(true);
    await expect(fs.access(path.join(node.dir, "run", "app.pid"))).rejects.toThrow();
    const log = await fs.readFile(path.join(node.dir, "run", "app.log"), "utf8");
    expect(log).toMatch(/SIGTERM: stopping, 1 request\(s\) in flight[\s\S]*stopped/);
    agent.destroy();

    expect((await node.stop()).stdout).toBe("sample-app: not running\n");
  });

  it("treats a pidfile naming another live process as stale and leaves that process alone", async () => {
    const node = await newNode("stale", "1.0.0");
    await node.stop();
    await fs.writeFile(path.join(node.dir, "run", "app.pid"), `${process.pid}\n`);
    expect((await node.stop()).stdout).toBe("sample-app: not running (removed stale pidfile)\n");
    expect(alive(process.pid)).toBe(true);

    await fs.writeFile(path.join(node.dir, "run", "app.pid"), `${process.pid}\n`);
    expect((await node.start()).stdout).toMatch(/started \(pid \d+, port \d+, \/health answered 200\)/);
    expect(await node.pid()).not.toBe(process.pid);
  });

  it("fails the start when the port is taken, and says why", async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const dir = path.join(root, "busy");
      await prepareSampleNodeDir(dir, port);
      await installSampleRelease(dir, "1.0.0");
      const result = await runShell(SAMPLE_APP_HOOKS.start, { cwd: dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/EADDRINUSE[\s\S]*exited during start/);
      await expect(fs.access(path.join(dir, "run", "app.pid"))).rejects.toThrow();
    } finally {
      blocker.close();
    }
  });

  it("has nothing to stop on a node's first install", async () => {
    const dir = path.join(root, "first");
    await prepareSampleNodeDir(dir, await freePort());
    const result = await runShell(SAMPLE_APP_HOOKS.stop, { cwd: dir });
    expect([result.code, result.stdout, result.stderr]).toEqual([0, "", ""]);
  });

  it("starts a build with a broken health check, which then answers 500", async () => {
    const node = await newNode("broken", "9.9.9", true);
    const health = await fetch(`${node.url}/health`);
    expect([health.status, await health.text()]).toEqual([500, "broken 9.9.9\n"]);
  });
});

describe("buildSampleArtifact", () => {
  it("packs the app and its VERSION as tar.gz, which unpacks into a runnable release", async () => {
    const file = path.join(root, "artifacts", "sample-2.0.0.tar.gz");
    const artifact = await buildSampleArtifact("2.0.0", file);
    const data = await fs.readFile(file);
    expect(artifact).toMatchObject({ file, size: data.length });
    expect(artifact.sha256).toMatch(/^[0-9a-f]{64}$/);

    const entries: Array<{ path: string; mode: number }> = [];
    await tar.list({ file, onReadEntry: (entry) => entries.push({ path: entry.path, mode: entry.mode ?? 0 }) });
    expect(entries.map((e) => e.path).sort()).toEqual(["README.md", "VERSION", "ctl.sh", "server.mjs"]);
    expect((entries.find((e) => e.path === "ctl.sh")?.mode ?? 0) & 0o111).not.toBe(0);

    const dir = path.join(root, "from-tar");
    const node = await startSampleNode({ dir, port: await freePort() });
    started.push(node);
    await fs.mkdir(path.join(dir, "releases", "2.0.0"));
    await tar.extract({ file, cwd: path.join(dir, "releases", "2.0.0") });
    await fs.symlink("releases/2.0.0", path.join(dir, "current"));
    await node.start();
    expect(await (await fetch(`${node.url}/version`)).json()).toEqual({ version: "2.0.0" });
  });

  it("packs a zip with the same files, modes and VERSION, and a BROKEN marker when asked", async () => {
    const file = path.join(root, "artifacts", "sample-3.0.0.zip");
    await buildSampleArtifact("3.0.0", file, { format: "zip", brokenHealth: true });
    const entries = await readZip(file);
    expect([...entries.keys()].sort()).toEqual(["BROKEN", "README.md", "VERSION", "ctl.sh", "server.mjs"]);
    expect(entries.get("VERSION")?.text).toBe("3.0.0\n");
    expect(entries.get("server.mjs")?.text).toBe(await fs.readFile(path.join(SAMPLE_APP_DIR, "server.mjs"), "utf8"));
    expect((entries.get("ctl.sh")?.mode ?? 0) & 0o111).not.toBe(0);
  });

  it("packs a FLAKY build that fails one page request in five and keeps /health at 200", async () => {
    const file = path.join(root, "artifacts", "sample-4.0.0-flaky.tar.gz");
    await buildSampleArtifact("4.0.0-flaky", file, { failOneIn: 5 });
    const dir = path.join(root, "flaky");
    const node = await startSampleNode({ dir, port: await freePort() });
    started.push(node);
    await fs.mkdir(path.join(dir, "releases", "4.0.0-flaky"), { recursive: true });
    await tar.extract({ file, cwd: path.join(dir, "releases", "4.0.0-flaky") });
    await fs.symlink("releases/4.0.0-flaky", path.join(dir, "current"));
    await node.start();
    const pages: number[] = [];
    for (let i = 0; i < 10; i++) {
      pages.push((await fetch(`${node.url}/version`)).status);
      expect((await fetch(`${node.url}/health`)).status).toBe(200);
    }
    // ctl.sh's start waited for /health, which does not count: the 5th and 10th page requests fail.
    expect(pages).toEqual([200, 200, 200, 200, 500, 200, 200, 200, 200, 500]);
  });

  it("refuses a version that is not a plain name", async () => {
    await expect(buildSampleArtifact("1.0\nEVIL", path.join(root, "x.tar.gz"))).rejects.toThrow(/invalid sample version/);
  });
});

function readZip(file: string): Promise<Map<string, { text: string; mode: number }>> {
  return new Promise((resolve, reject) => {
    const out = new Map<string, { text: string; mode: number }>();
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      zip.on("error", reject);
      zip.on("end", () => resolve(out));
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("end", () => {
            out.set(entry.fileName, { text: Buffer.concat(chunks).toString("utf8"), mode: (entry.externalFileAttributes >>> 16) & 0o7777 });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
