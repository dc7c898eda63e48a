// extractArchive against real archives on a real file system: well-formed builds come out whole with their modes,
// and every hostile archive is refused with UnsafeArchiveError leaving nothing behind, not even a temporary dir.
import fs from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import * as tar from "tar";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractArchive, UnsafeArchiveError, type ExtractLimits } from "./extract";
import { listTree, makeTempDir, rawTar, rawZip, type RawTarEntry, type RawZipEntry } from "./test-fixtures";

let work: { dir: string; cleanup: () => Promise<void> };
/** Where releases go: the parent of every destination, which must hold nothing after a refusal. */
let parent: string;
let dest: string;

beforeEach(async () => {
  work = await makeTempDir();
  parent = path.join(work.dir, "releases");
  await fs.mkdir(parent);
  dest = path.join(parent, "1.0.0-abcdef012345");
});
afterEach(() => work.cleanup());

async function writeArchive(name: string, bytes: Buffer): Promise<string> {
  const file = path.join(work.dir, name);
  await fs.writeFile(file, bytes);
  return file;
}

const modeOf = async (p: string) => (await fs.stat(p)).mode & 0o7777;

describe("well-formed archives", () => {
  it("extracts a .tar.gz made by node-tar with contents, executable bits and internal symlinks", async () => {
    const src = path.join(work.dir, "src");
    await fs.mkdir(path.join(src, "bin"), { recursive: true });
    await fs.mkdir(path.join(src, "node_modules/pkg"), { recursive: true });
    await fs.mkdir(path.join(src, "node_modules/.bin"), { recursive: true });
    await fs.writeFile(path.join(src, "bin/run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
    await fs.writeFile(path.join(src, "README"), "hello", { mode: 0o644 });
    await fs.writeFile(path.join(src, "node_modules/pkg/cli.js"), "cli", { mode: 0o755 });
    await fs.symlink("../pkg/cli.js", path.join(src, "node_modules/.bin/pkg"));
    await fs.symlink("bin/run.sh", path.join(src, "start"));
    const file = path.join(work.dir, "build.tar.gz");
    await tar.c({ gzip: true, file, cwd: src }, ["."]);

    const result = await extractArchive(file, dest);

    expect(result.format).toBe("tar.gz");
    expect(await fs.readFile(path.join(dest, "bin/run.sh"), "utf8")).toBe("#!/bin/sh\necho hi\n");
    expect(await fs.readFile(path.join(dest, "README"), "utf8")).toBe("hello");
    expect(await modeOf(path.join(dest, "bin/run.sh"))).toBe(0o755);
    expect(await modeOf(path.join(dest, "README"))).toBe(0o644);
    expect(await fs.readlink(path.join(dest, "node_modules/.bin/pkg"))).toBe("../pkg/cli.js");
    expect(await fs.readFile(path.join(dest, "start"), "utf8")).toContain("echo hi");
    expect(result.bytes).toBe("#!/bin/sh\necho hi\n".length + "hello".length + "cli".length);
    expect(await fs.readdir(parent)).toEqual([path.basename(dest)]);
  });

  it("extracts a plain .tar with hard links, and strips setuid bits but keeps the rest of the mode", async () => {
    const file = await writeArchive(
      "build.tar",
      rawTar([
        { name: "app/", type: "5", mode: 0o755 },
        { name: "app/server", mode: 0o4755, data: "binary" },
        { name: "app/server-again", type: "1", linkName: "app/server" },
      ]),
    );
    const result = await extractArchive(file, dest);
    expect(result.format).toBe("tar");
    expect(await modeOf(path.join(dest, "app/server"))).toBe(0o755);
    const [a, b] = await Promise.all([fs.stat(path.join(dest, "app/server")), fs.stat(path.join(dest, "app/server-again"))]);
    expect(b.ino).toBe(a.ino);
  });

  it.runIf(process.getuid?.() === 0)("does not keep the archive's file owners, even as root", async () => {
    const header = rawTar([{ name: "owned", data: "x" }]);
    // uid 1234 in the header, checksum recomputed.
    header.write("0002322\0", 108, "latin1");
    header.write("        ", 148, "latin1");
    let sum = 0;
    for (const byte of header.subarray(0, 512)) sum += byte;
    header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
    await extractArchive(await writeArchive("owned.tar", header), dest);
    expect((await fs.stat(path.join(dest, "owned"))).uid).toBe(0);
  });

  it("extracts a .zip with modes, directories, implied parents and an internal symlink", async () => {
    const file = await writeArchive(
      "build.zip",
      rawZip([
        { name: "bin/", unixMode: 0o040755 },
        { name: "bin/run.sh", data: "#!/bin/sh\necho zip\n", unixMode: 0o100755 },
        { name: "conf/app.ini", data: "a=1\n", unixMode: 0o100640, method: 0 },
        { name: "run", data: "bin/run.sh", unixMode: 0o120777 },
      ]),
    );
    const result = await extractArchive(file, dest);
    expect(result).toEqual({ format: "zip", entries: 4, bytes: "#!/bin/sh\necho zip\n".length + 4 + "bin/run.sh".length });
    expect(await modeOf(path.join(dest, "bin/run.sh"))).toBe(0o755);
    expect(await modeOf(path.join(dest, "conf/app.ini"))).toBe(0o640);
    expect(await fs.readFile(path.join(dest, "conf/app.ini"), "utf8")).toBe("a=1\n");
    expect(await fs.readlink(path.join(dest, "run"))).toBe("bin/run.sh");
    expect(await fs.readdir(parent)).toEqual([path.basename(dest)]);
  });

  it("goes by the bytes, not the name: a gzipped tar called .zip is extracted as tar.gz", async () => {
    const file = await writeArchive("misnamed.zip", gzipSync(rawTar([{ name: "a.txt", data: "A" }])));
    expect((await extractArchive(file, dest)).format).toBe("tar.gz");
    expect(await fs.readFile(path.join(dest, "a.txt"), "utf8")).toBe("A");
  });

  it("refuses a file that is no archive, and a destination that already exists", async () => {
    const notArchive = await writeArchive("notes.tar.gz", Buffer.from("just text, no archive here"));
    await expect(extractArchive(notArchive, dest)).rejects.toThrow(/is not a \.tar\.gz, \.tgz, \.tar or \.zip/);

    await fs.mkdir(dest);
    await fs.writeFile(path.join(dest, "keep"), "mine");
    const good = await writeArchive("good.tar", rawTar([{ name: "a", data: "A" }]));
    await expect(extractArchive(good, dest)).rejects.toThrow(/already exists/);
    expect(await listTree(parent)).toEqual([path.basename(dest), `${path.basename(dest)}/keep`]);
  });
});

describe("hostile tar archives are refused and leave nothing behind", () => {
  const outside = "x-escaped";
  const cases: [string, RawTarEntry[], RegExp, Partial<ExtractLimits>?][] = [
    ["an absolute path", [{ name: `/tmp/${outside}`, data: "pwned" }], /absolute path/],
    ["../x", [{ name: `../${outside}`, data: "pwned" }], /'\.\.' segment/],
    ["a/../../x", [{ name: "a/", type: "5" }, { name: `a/../../${outside}`, data: "pwned" }], /'\.\.' segment/],
    ["a symlink to /etc/passwd", [{ name: "passwd", type: "2", linkName: "/etc/passwd" }], /absolute path/],
    ["a symlink a/link -> ../../x", [{ name: "a/", type: "5" }, { name: "a/link", type: "2", linkName: `../../${outside}` }], /points outside/],
    ["a symlink climbing after a name (s -> ., l -> s/..)", [{ name: "s", type: "2", linkName: "." }, { name: "l", type: "2", linkName: "s/.." }], /'\.\.' after a name/],
    ["a hard link escaping", [{ name: "h", type: "1", linkName: `../${outside}` }], /'\.\.' segment/],
    ["a hard link to /etc/passwd", [{ name: "h", type: "1", linkName: "/etc/passwd" }], /absolute path/],
    ["a file written through an earlier symlink", [{ name: "sub/", type: "5" }, { name: "l", type: "2", linkName: "sub" }, { name: "l/x", data: "x" }], /lies inside "l", which is a symlink/],
    ["a character device", [{ name: "null", type: "3" }], /CharacterDevice entry/],
    ["a block device", [{ name: "disk", type: "4" }], /BlockDevice entry/],
    ["a FIFO", [{ name: "pipe", type: "6" }], /FIFO entry/],
    ["more entries than allowed", Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, data: "x" })), /more than 5 entries/, { maxEntries: 5 }],
    ["a file larger than allowed", [{ name: "small", data: "ok" }, { name: "big", data: Buffer.alloc(2048, 1) }], /more than the 1024 bytes allowed per file/, { maxEntryBytes: 1024 }],
    ["files adding up to more than allowed", [{ name: "a", data: Buffer.alloc(600) }, { name: "b", data: Buffer.alloc(600) }], /add up to more than the 1000 bytes/, { maxTotalBytes: 1000 }],
  ];

  it.each(cases)("%s", async (_label, entries, message, limits) => {
    const file = await writeArchive("evil.tar.gz", gzipSync(rawTar([{ name: "fine.txt", data: "fine" }, ...entries])));
    const error = await extractArchive(file, dest, limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeArchiveError);
    expect((error as Error).message).toMatch(message);
    expect(await fs.readdir(parent)).toEqual([]);
    await expect(fs.lstat(path.join(work.dir, outside))).rejects.toThrow(/ENOENT/);
    await expect(fs.lstat(`/tmp/${outside}`)).rejects.toThrow(/ENOENT/);
  });
});

describe("hostile zip archives are refused and leave nothing behind", () => {
  const outside = "z-escaped";
  const fine: RawZipEntry = { name: "fine.txt", data: "fine" };
  const cases: [string, RawZipEntry[], RegExp, Partial<ExtractLimits>?][] = [
    ["an absolute path", [{ name: `/tmp/${outside}`, data: "pwned" }], /absolute path/],
    ["../x", [{ name: `../${outside}`, data: "pwned" }], /'\.\.' segment/],
    ["a/../../x", [{ name: `a/../../${outside}`, data: "pwned" }], /'\.\.' segment/],
    ["..\\x (Windows separators)", [{ name: `..\\${outside}`, data: "pwned" }], /'\.\.' segment/],
    ["a symlink to /etc/passwd", [{ name: "passwd", data: "/etc/passwd", unixMode: 0o120777 }], /absolute path/],
    ["a symlink a/link -> ../../x", [{ name: "a/link", data: `../../${outside}`, unixMode: 0o120777 }], /points outside/],
    ["a character device", [{ name: "null", unixMode: 0o020644 }], /character device entry/],
    ["a FIFO", [{ name: "pipe", unixMode: 0o010644 }], /FIFO entry/],
    ["more entries than allowed", Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, data: "x" })), /more than 5 entries/, { maxEntries: 5 }],
    ["a file declared larger than allowed", [{ name: "big", data: Buffer.alloc(2048) }], /declares 2048 bytes, more than the 1024 bytes allowed/, { maxEntryBytes: 1024 }],
    // A zip bomb: the directory says 10 bytes, the data inflates to 4 MiB. Checked while inflating, not after.
    ["an entry that inflates beyond its declared size", [{ name: "bomb", data: Buffer.alloc(4 * 1024 * 1024), declaredSize: 10 }], /inflates to more than its declared 10 bytes/],
  ];

  it.each(cases)("%s", async (_label, entries, message, limits) => {
    const file = await writeArchive("evil.zip", rawZip([fine, ...entries]));
    const error = await extractArchive(file, dest, limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeArchiveError);
    expect((error as Error).message).toMatch(message);
    expect(await fs.readdir(parent)).toEqual([]);
    await expect(fs.lstat(path.join(work.dir, outside))).rejects.toThrow(/ENOENT/);
    await expect(fs.lstat(`/tmp/${outside}`)).rejects.toThrow(/ENOENT/);
  });
});
