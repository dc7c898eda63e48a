// `npm run bench -- [audit|audit-cpu|rollout|dispatch|fleet|upload|dashboard]`: runs the named benchmarks (all when none is named) and prints their figures.
// Results worth keeping go to docs/benchmarks.md with the machine and date.
import { spawnSync } from "node:child_process";
import path from "node:path";

const ALL = ["audit", "audit-cpu", "rollout", "dispatch", "fleet", "upload", "dashboard"];
const names = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const root = path.resolve(import.meta.dirname, "..");
let failed = false;
for (const name of names.length ? names : ALL) {
  if (!ALL.includes(name)) {
    console.error(`unknown benchmark ${name}; choose from ${ALL.join(", ")}`);
    process.exit(2);
  }
  // react-server: domain modules import "server-only", which is empty only under that condition.
  const r = spawnSync(process.execPath, ["--conditions=react-server", "--expose-gc", "--import", "tsx", path.join("bench", `${name}.ts`)], { cwd: root, stdio: "inherit" });
  failed ||= r.status !== 0;
}
process.exit(failed ? 1 : 0);
