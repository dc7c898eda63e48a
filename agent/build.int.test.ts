// The agent bundle is read while it is rebuilt: every `npm start` rebuilds it while an instance already running on
// the same checkout serves it at /downloads/releasegate-agent.mjs and fleets start agents from it (the e2e suite
// does all of these at once). A reader must get the whole old bundle or the whole new one, never a part.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { buildAgent } from "./build";

const dir = await mkdtemp(path.join(os.tmpdir(), "releasegate-agent-build-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

test("a process reading the bundle while it is rebuilt always reads a whole one", async () => {
  const bundle = path.join(dir, "dist", "releasegate-agent.mjs");
  await buildAgent(bundle);
  const size = (await stat(bundle)).size;
  const sizesRead: number[] = [];
  let building = true;
  const reading = (async () => {
    while (building) sizesRead.push((await readFile(bundle)).length);
  })();
  for (let i = 0; i < 10; i++) await buildAgent(bundle);
  building = false;
  await reading;
  expect(sizesRead.length).toBeGreaterThan(100);
  expect(sizesRead.filter((n) => n !== size)).toEqual([]);
}, 120_000);
