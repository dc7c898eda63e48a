// A small filesystem of its own (tmpfs of a fixed size) for tests that need a disk to really run full: writes past its
// size fail with ENOSPC from the kernel, as on a server whose disk filled up. Mounting needs root (CAP_SYS_ADMIN),
// which CI and these machines have; elsewhere the test fails saying so instead of faking the error.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface SmallDisk {
  dir: string;
  /** Bytes free now (statfs). */
  free(): Promise<number>;
  unmount(): Promise<void>;
}

export async function mountSmallDisk(dir: string, bytes: number): Promise<SmallDisk> {
  await fs.mkdir(dir, { recursive: true });
  try {
    await exec("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0755`, "tmpfs", dir]);
  } catch (err) {
    throw new Error(
      `This test needs a small filesystem that really fills up: mounting a ${bytes}-byte tmpfs on ${dir} failed (${(err as Error).message.trim()}). ` +
        "Run it as root (CI does), or where mount(8) is allowed.",
    );
  }
  return {
    dir,
    free: async () => {
      const s = await fs.statfs(dir);
      return s.bavail * s.bsize;
    },
    // Lazy: a process still holding a file there (an app the test started) must not keep the mount alive for ever.
    unmount: async () => {
      await exec("umount", ["-l", dir]).catch(() => undefined);
    },
  };
}
