// Release artifacts of the sample app (demo/sample-app) for tests and the demo: the folder's files plus a VERSION
// file, at the archive's root, as tar.gz (node-tar) or zip.
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import * as tar from "tar";

export const SAMPLE_APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../demo/sample-app");

export interface SampleArtifactOptions {
  format?: "tar.gz" | "zip";
  /** Adds a BROKEN marker: the app starts but its /health answers 500 (a build that must not go live). */
  brokenHealth?: boolean;
  /** Adds a FLAKY marker: every Nth request to the app's pages answers 500 while /health stays 200 (fails visitors later). */
  failOneIn?: number;
  /** Changes the release's files before they are packed (a build whose start hangs, a build padded to a size...). */
  customize?: (dir: string) => Promise<void>;
}

export interface SampleArtifact {
  file: string;
  sha256: string;
  size: number;
}

export async function buildSampleArtifact(version: string, outFile: string, options: SampleArtifactOptions = {}): Promise<SampleArtifact> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/.test(version)) throw new Error(`invalid sample version ${JSON.stringify(version)}`);
  const staging = await fs.mkdtemp(path.join(os.tmpdir(), "rg-sample-artifact-"));
  try {
    await writeSampleRelease(staging, version, options.brokenHealth ?? false);
    if (options.failOneIn !== undefined) await fs.writeFile(path.join(staging, "FLAKY"), `${options.failOneIn}\n`);
    await options.customize?.(staging);
    const entries = (await fs.readdir(staging)).sort();
    await fs.mkdir(path.dirname(outFile), { recursive: true });
    if ((options.format ?? "tar.gz") === "tar.gz") {
      await tar.create({ gzip: true, file: outFile, cwd: staging, portable: true }, entries);
    } else {
      await fs.writeFile(outFile, await zipFiles(staging, entries));
    }
    const data = await fs.readFile(outFile);
    return { file: outFile, sha256: createHash("sha256").update(data).digest("hex"), size: data.length };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

/** Copies the sample app into `dir` (created if needed) with its VERSION (and BROKEN) file: an unpacked release. */
export async function writeSampleRelease(dir: string, version: string, brokenHealth = false): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const name of await fs.readdir(SAMPLE_APP_DIR)) {
    if (name === "VERSION" || name === "BROKEN" || name === "FLAKY") continue;
    await fs.cp(path.join(SAMPLE_APP_DIR, name), path.join(dir, name), { recursive: true });
  }
  await fs.writeFile(path.join(dir, "VERSION"), `${version}\n`);
  if (brokenHealth) await fs.writeFile(path.join(dir, "BROKEN"), "health check answers 500\n");
  else await fs.rm(path.join(dir, "BROKEN"), { force: true });
}

// A minimal zip writer (deflate, unix modes kept so ctl.sh stays executable) for flat folders of regular files.
// node:zlib has no crc32 before Node 22.2, hence the table.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

async function zipFiles(dir: string, names: string[]): Promise<Buffer> {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const stat = await fs.stat(path.join(dir, name));
    if (!stat.isFile()) throw new Error(`zip: ${name} is not a regular file`);
    const data = await fs.readFile(path.join(dir, name));
    const compressed = zlib.deflateRawSync(data);
    const nameBytes = Buffer.from(name, "utf8");
    const crc = crc32(data);
    // DOS time/date for 1980-01-01 00:00: reproducible archives.
    const dosTime = 0;
    const dosDate = (0 << 9) | (1 << 5) | 1;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBytes, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by unix, so external attributes carry the mode
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE(((0o100000 | (stat.mode & 0o777)) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const centralSize = centrals.reduce((sum, b) => sum + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(names.length, 8);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}
