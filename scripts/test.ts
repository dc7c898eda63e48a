// `npm test`: every test tier, against real PostgreSQL and real Chromium, and one summary line at the end.
//   1. provisions PostgreSQL (DATABASE_URL's server, else an embedded one in a temp dir; see scripts/lib/test-database.ts)
//   2. vitest: unit tests, then integration tests on a freshly migrated database
//   3. next build, then Playwright against the control plane started by `scripts/start.ts`, on its own fresh
//      database (so the first-run path is exercised exactly as a new user meets it)
// Usage: npm test [-- --skip-e2e] [-- --only-e2e]
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { migrateDatabase } from "../lib/db/migrate";
import { NEXT_BUILD_ARGS } from "./lib/next-build";
import { startTestServer } from "./lib/test-database";

const root = path.resolve(import.meta.dirname, "..");
const args = new Set(process.argv.slice(2).filter((a) => a.startsWith("--")));
/** Spec files or patterns to hand to Playwright (`npm run test:e2e -- e2e/rollouts.spec.ts`). */
const e2eFilters = process.argv.slice(2).filter((a) => !a.startsWith("--"));
// Databases of this run only, so runs side by side on one PostgreSQL server never drop each other's.
const runTag = String(process.pid);

function run(cmd: string, argv: string[], env: Record<string, string | undefined>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

async function vitestCounts(file: string): Promise<Counts | null> {
  if (!existsSync(file)) return null;
  const r = JSON.parse(await readFile(file, "utf8")) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
  return { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
}

async function playwrightCounts(file: string): Promise<Counts | null> {
  if (!existsSync(file)) return null;
  const r = JSON.parse(await readFile(file, "utf8")) as { stats: { expected: number; unexpected: number; flaky: number; skipped: number } };
  return { passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected, skipped: r.stats.skipped };
}

async function main(): Promise<number> {
  const reports = await mkdtemp(path.join(os.tmpdir(), "releasegate-reports-"));
  const server = await startTestServer();
  console.log(`[test] PostgreSQL: ${server.description}`);
  const failures: string[] = [];
  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  const add = (c: Counts | null, tier: string) => {
    if (!c) return;
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
    console.log(`[test] ${tier}: ${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ""}`);
  };
  try {
    if (!args.has("--only-e2e")) {
      const intUrl = await server.createDatabase(`releasegate_test_int_${runTag}`);
      await migrateDatabase(intUrl, { dir: path.join(root, "prisma/migrations") });
      const vitestJson = path.join(reports, "vitest.json");
      const code = await run("npx", ["--no-install", "vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestJson}`], {
        RELEASEGATE_TEST_DATABASE_URL: intUrl,
        DATABASE_URL: intUrl,
      });
      add(await vitestCounts(vitestJson), "vitest (unit + integration)");
      if (code !== 0) failures.push("vitest");
    }
    if (!args.has("--skip-e2e")) {
      const e2eUrl = await server.createDatabase(`releasegate_test_e2e_${runTag}`);
      const dataDir = await mkdtemp(path.join(os.tmpdir(), "releasegate-e2e-data-"));
      const build = await run("npx", [...NEXT_BUILD_ARGS], { NEXT_TELEMETRY_DISABLED: "1", DATABASE_URL: "" });
      if (build !== 0) failures.push("next build");
      else {
        const pwJson = path.join(reports, "playwright.json");
        const code = await run("npx", ["--no-install", "playwright", "test", ...e2eFilters], {
          E2E_DATABASE_URL: e2eUrl,
          E2E_DATA_DIR: dataDir,
          PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson,
        });
        add(await playwrightCounts(pwJson), "playwright (e2e)");
        if (code !== 0) failures.push("playwright");
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  } finally {
    for (const name of [`releasegate_test_int_${runTag}`, `releasegate_test_e2e_${runTag}`]) await server.dropDatabase(name).catch(() => undefined);
    await server.stop();
    await rm(reports, { recursive: true, force: true });
  }
  if (failures.length > 0) console.log(`[test] failed: ${failures.join(", ")}`);
  // The plain summary line CI tools read.
  console.log(`${total.passed} passed, ${total.failed + (failures.length > 0 && total.failed === 0 ? 1 : 0)} failed${total.skipped ? `, ${total.skipped} skipped` : ""}`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
