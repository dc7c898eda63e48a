// The in-progress marker (as CodeDeploy's agent keeps): written before a step starts and updated at each phase,
// removed once the result is reported. If the agent dies mid-step, the next start finds it and reports the step
// INTERRUPTED with the phase it reached, so the control plane halts and rolls back instead of waiting on a lease.
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

export interface JournalEntry {
  stepId: string;
  leaseId: string;
  action: string;
  version: string;
  phase: string;
  startedAt: string;
  /** The node was taken out of the load balancer and not put back yet. */
  outOfRotation: boolean;
}

export class Journal {
  constructor(private readonly dir: string) {}

  private get file() {
    return path.join(this.dir, "in-progress.json");
  }

  async write(entry: JournalEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(entry), { mode: 0o600 });
    await rename(tmp, this.file); // atomic: a crash leaves the old or the new marker, never half of one
  }

  async read(): Promise<JournalEntry | null> {
    try {
      return JSON.parse(await readFile(this.file, "utf8")) as JournalEntry;
    } catch {
      return null;
    }
  }

  async clear(): Promise<void> {
    await rm(this.file, { force: true });
  }
}
