// downloadArtifact against a real HTTP server on localhost that serves Range requests and misbehaves on demand.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArtifactDownloadError, ArtifactMismatchError, downloadArtifact, type DownloadOptions } from "./download";
import { mountSmallDisk } from "../../../test/support/small-disk";
import { makeTempDir, sha256Hex, startArtifactServer, type ArtifactServer } from "./test-fixtures";

const body = randomBytes(1024 * 1024 + 123);
const sha = sha256Hex(body);

let work: { dir: string; cleanup: () => Promise<void> };
let server: ArtifactServer;
let dest: string;

beforeEach(async () => {
  work = await makeTempDir();
  dest = path.join(work.dir, "downloads", "build.tar.gz");
});
afterEach(async () => {
  await server?.close();
  await work.cleanup();
});

const download = (overrides: Partial<DownloadOptions> = {}) =>
  downloadArtifact({
    url: server.url,
    headers: { authorization: "Bearer rga_test" },
    dest,
    expectedSha256: sha,
    expectedSize: body.length,
    retryDelayMs: 5,
    ...overrides,
  });

const exists = (p: string) => fs.lstat(p).then(() => true, () => false);

describe("downloadArtifact", () => {
  it("on a disk that runs full, fails with ENOSPC and removes the partial download, leaving the disk as it was", async () => {
    server = await startArtifactServer(body);
    const disk = await mountSmallDisk(path.join(work.dir, "small"), 512 * 1024);
    try {
      const before = await disk.free();
      const onSmallDisk = path.join(disk.dir, "downloads", "build.tar.gz");
      await expect(download({ dest: onSmallDisk })).rejects.toMatchObject({ code: "ENOSPC" });
      expect(await exists(`${onSmallDisk}.part`)).toBe(false);
      expect(await disk.free()).toBe(before);
      expect(server.requests).toHaveLength(1); // a full disk is not a network blip: no retries
    } finally {
      await disk.unmount();
    }
  });

  it("streams the artifact to dest with the caller's headers, reporting progress up to the total", async () => {
    server = await startArtifactServer(body);
    const progress: [number, number][] = [];
    const result = await download({ onProgress: (done, total) => progress.push([done, total]) });

    expect(result).toEqual({ bytes: body.length, requests: 1 });
    expect((await fs.readFile(dest)).equals(body)).toBe(true);
    expect(await exists(`${dest}.part`)).toBe(false);
    expect(server.requests).toEqual([{ range: undefined, status: 200, authorization: "Bearer rga_test" }]);
    expect(progress.at(-1)).toEqual([body.length, body.length]);
    expect(progress.every(([done], i) => i === 0 || done > progress[i - 1]![0])).toBe(true);
  });

  it("resumes with a Range request after the connection is cut mid-stream", async () => {
    server = await startArtifactServer(body, { cutFirstResponseAfter: 300_000 });
    const logs: string[] = [];
    const result = await download({ onLog: (m) => logs.push(m) });

    expect((await fs.readFile(dest)).equals(body)).toBe(true);
    expect(result.requests).toBe(2);
    const resumeAt = Number(/^bytes=(\d+)-$/.exec(server.requests[1]?.range ?? "")?.[1]);
    expect(resumeAt).toBeGreaterThan(0);
    expect(resumeAt).toBeLessThanOrEqual(300_000);
    expect(server.requests[1]?.status).toBe(206);
    expect(logs.join("\n")).toMatch(/Download interrupted[\s\S]*Resuming the download at byte/);
  });

  it("resumes a part file left by an earlier run, hashing what it already has", async () => {
    server = await startArtifactServer(body);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.writeFile(`${dest}.part`, body.subarray(0, 500_000));

    await download();

    expect((await fs.readFile(dest)).equals(body)).toBe(true);
    expect(server.requests).toEqual([{ range: "bytes=500000-", status: 206, authorization: "Bearer rga_test" }]);
  });

  it("starts over when the server ignores Range and answers 200", async () => {
    server = await startArtifactServer(body, { ignoreRange: true });
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.writeFile(`${dest}.part`, body.subarray(0, 500_000));

    await download();

    expect((await fs.readFile(dest)).equals(body)).toBe(true);
    expect(server.requests.map((r) => [r.range, r.status])).toEqual([["bytes=500000-", 200]]);
  });

  it("treats a 416 as a suspect part file: deletes it and downloads from scratch", async () => {
    server = await startArtifactServer(body, { statusFor: (i) => (i === 0 ? 416 : undefined) });
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.writeFile(`${dest}.part`, body.subarray(0, 1000));

    await download();

    expect((await fs.readFile(dest)).equals(body)).toBe(true);
    expect(server.requests.map((r) => [r.range, r.status])).toEqual([
      ["bytes=1000-", 416],
      [undefined, 200],
    ]);
  });

  it("re-downloads when a complete-length part file does not verify", async () => {
    server = await startArtifactServer(body);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.writeFile(`${dest}.part`, randomBytes(body.length));

    await download();

    expect((await fs.readFile(dest)).equals(body)).toBe(true);
    expect(server.requests.map((r) => r.range)).toEqual([undefined]);
  });

  it("retries a 503 and gives up on a 404 at once", async () => {
    server = await startArtifactServer(body, { statusFor: (i) => (i === 0 ? 503 : undefined) });
    expect((await download()).requests).toBe(2);

    await server.close();
    server = await startArtifactServer(body, { statusFor: () => 404 });
    const error = await download({ dest: `${dest}-2` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactDownloadError);
    expect((error as ArtifactDownloadError).status).toBe(404);
    expect(server.requests).toHaveLength(1);
  });

  it("stops after the allowed retries", async () => {
    server = await startArtifactServer(body, { statusFor: () => 502 });
    await expect(download({ retries: 2 })).rejects.toThrow(/HTTP 502/);
    expect(server.requests).toHaveLength(3);
  });

  it("refuses bytes with the wrong SHA-256: typed error naming both hashes, part file deleted, no dest", async () => {
    server = await startArtifactServer(body);
    const wrong = "0".repeat(64);
    const error = await download({ expectedSha256: wrong }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ArtifactMismatchError);
    expect((error as ArtifactMismatchError).kind).toBe("sha256");
    expect((error as Error).message).toBe(`Artifact SHA-256 mismatch: expected ${wrong}, got ${sha}.`);
    expect(await exists(`${dest}.part`)).toBe(false);
    expect(await exists(dest)).toBe(false);
  });

  it("refuses a body shorter or longer than the recorded size", async () => {
    server = await startArtifactServer(body);
    const short = await download({ expectedSize: body.length + 10 }).catch((e: unknown) => e);
    expect(short).toBeInstanceOf(ArtifactMismatchError);
    expect((short as Error).message).toBe(`Artifact size mismatch: expected ${body.length + 10} bytes, got ${body.length}.`);
    expect(await exists(`${dest}.part`)).toBe(false);

    const long = await download({ expectedSize: 1000 }).catch((e: unknown) => e);
    expect(long).toBeInstanceOf(ArtifactMismatchError);
    expect((long as Error).message).toMatch(/^Artifact size mismatch: expected 1000 bytes, got at least \d+\.$/);
    expect(await exists(`${dest}.part`)).toBe(false);
    expect(await exists(dest)).toBe(false);
  });

  it("does not start when already cancelled", async () => {
    server = await startArtifactServer(body);
    const controller = new AbortController();
    controller.abort();
    await expect(download({ signal: controller.signal })).rejects.toThrow(/abort/i);
    expect(server.requests).toHaveLength(0);
  });
});
