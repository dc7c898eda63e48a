// Test helpers for agent/src/install: archives built byte by byte (normal tools refuse to create the malicious
// entries the extractor must refuse), a local HTTP server that serves an artifact with Range support and can
// misbehave on purpose, and temporary directories. Not imported by the agent itself.
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { deflateRawSync } from "node:zlib";

export async function makeTempDir(prefix = "rg-install-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** Every path below `dir`, relative, sorted; symlinks listed, not followed. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string) => {
    for (const entry of await fs.readdir(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      out.push(path.relative(dir, full));
      if (entry.isDirectory()) await walk(full);
    }
  };
  await walk(dir);
  return out.sort();
}

export const sha256Hex = (data: Buffer) => createHash("sha256").update(data).digest("hex");

// ---------------------------------------------------------------------------------------------------------------
// Tar: raw ustar headers.

export interface RawTarEntry {
  name: string;
  /** ustar type flag: "0" file, "1" hard link, "2" symlink, "3" char device, "4" block device, "5" directory, "6" FIFO. */
  type?: string;
  mode?: number;
  data?: Buffer | string;
  linkName?: string;
  /** Declared size, when it should differ from the data's (the data written is still `data`). */
  size?: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

export function tarHeader(entry: RawTarEntry): Buffer {
  const header = Buffer.alloc(512);
  const data = Buffer.from(entry.data ?? "");
  header.write(entry.name, 0, 100, "utf8");
  header.write(octal(entry.mode ?? 0o644, 8), 100, "latin1");
  header.write(octal(0, 8), 108, "latin1");
  header.write(octal(0, 8), 116, "latin1");
  header.write(octal(entry.size ?? data.length, 12), 124, "latin1");
  header.write(octal(Math.floor(Date.now() / 1000), 12), 136, "latin1");
  header.write(entry.type ?? "0", 156, "latin1");
  if (entry.linkName) header.write(entry.linkName, 157, 100, "utf8");
  header.write("ustar\0", 257, "latin1");
  header.write("00", 263, "latin1");
  // The checksum is computed with its own field read as spaces.
  header.write("        ", 148, "latin1");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return header;
}

/** An uncompressed tar of the given entries, ending with the two zero blocks. */
export function rawTar(entries: RawTarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    blocks.push(tarHeader(entry));
    const data = Buffer.from(entry.data ?? "");
    if (data.length > 0) {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

// ---------------------------------------------------------------------------------------------------------------
// Zip: local headers, central directory, end record.

export interface RawZipEntry {
  name: string;
  data?: Buffer | string;
  /** Unix mode including the type bits (0o100644 file, 0o120777 symlink, 0o020644 char device...). */
  unixMode?: number;
  /** 8 = deflate (default), 0 = stored. */
  method?: 0 | 8;
  /** Declared uncompressed size, when it should lie. */
  declaredSize?: number;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function rawZip(entries: RawZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? "");
    const method = entry.method ?? 8;
    const stored = method === 8 ? deflateRawSync(data) : data;
    const name = Buffer.from(entry.name, "utf8");
    const crc = crc32(data);
    const size = entry.declaredSize ?? data.length;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x21, 12); // date: 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, stored);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.unixMode ?? (entry.name.endsWith("/") ? 0o040755 : 0o100644)) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

// ---------------------------------------------------------------------------------------------------------------
// An artifact server.

export interface ArtifactServerBehaviour {
  /** On the first request only, send this many body bytes then destroy the socket. */
  cutFirstResponseAfter?: number;
  /** Answer every request 200 with the whole body, as if Range were unknown. */
  ignoreRange?: boolean;
  /** Answer request number `index` (from 0) with this status and no body, when it returns one. */
  statusFor?: (index: number) => number | undefined;
}

export interface ArtifactServer {
  url: string;
  /** Each request's Range header (undefined when absent) and the status answered. */
  requests: { range: string | undefined; status: number; authorization: string | undefined }[];
  behaviour: ArtifactServerBehaviour;
  close(): Promise<void>;
}

export async function startArtifactServer(body: Buffer, behaviour: ArtifactServerBehaviour = {}): Promise<ArtifactServer> {
  const requests: ArtifactServer["requests"] = [];
  const server = http.createServer((req, res) => {
    const range = req.headers.range;
    const record = (status: number) =>
      requests.push({ range, status, authorization: req.headers.authorization });
    const index = requests.length;
    const forced = behaviour.statusFor?.(index);
    if (forced !== undefined) {
      record(forced);
      res.writeHead(forced).end();
      return;
    }
    let start = 0;
    let status = 200;
    const match = /^bytes=(\d+)-$/.exec(range ?? "");
    if (match && !behaviour.ignoreRange) {
      start = Number(match[1]);
      if (start >= body.length) {
        record(416);
        res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        return;
      }
      status = 206;
    }
    record(status);
    const slice = body.subarray(start);
    const headers: http.OutgoingHttpHeaders = {
      "content-type": "application/octet-stream",
      "content-length": slice.length,
      "accept-ranges": "bytes",
    };
    if (status === 206) headers["content-range"] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(status, headers);
    const cut = behaviour.cutFirstResponseAfter;
    if (index === 0 && cut !== undefined) {
      res.write(slice.subarray(0, cut), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    res.end(slice);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/artifact`,
    requests,
    behaviour,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
