// The pipeline API's "deploy and wait" script (docs/pipeline-api.md), run exactly as written by bash with curl and
// jq, as a CI job would run it, against the control plane and a real fleet: it waits with `?wait=` long-polls and
// succeeds when the rollout does, and it ends at once, non-zero and with the server's message, when the deploy call
// is refused (it used to poll a deployment that did not exist, forever).
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "./fixtures";
import { type E2EFleet, nodeVersions, startE2EFleet, uploadSampleRelease } from "./support/fleet-fixture";

test.describe.configure({ mode: "serial" });

let f: E2EFleet;
let script = "";

test.beforeAll(async ({ playwright, baseURL }) => {
  test.setTimeout(120_000);
  const doc = await readFile(path.resolve(import.meta.dirname, "../docs/pipeline-api.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Wait for the rollout"));
  script = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  f = await startE2EFleet(baseURL!, "pipeline-docs");
  const request = await playwright.request.newContext({ baseURL: baseURL! });
  await uploadSampleRelease(request, f, "1.4.0"); // the version the documented script deploys
  await request.dispose();
});

test.afterAll(async () => {
  await f?.stop();
});

function runScript(env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

test("the documented script deploys, waits for the rollout with long-polls, and exits 0 when it succeeded", async ({ baseURL }) => {
  const run = await runScript({ RELEASEGATE: baseURL!, RELEASEGATE_TOKEN: f.seeded.apiToken, APP: f.seeded.applicationId }, 60_000);
  expect(run.timedOut).toBe(false);
  expect(run.code, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout)).toEqual({ status: "SUCCEEDED", failureReason: null });
  expect(await nodeVersions(f, "qa")).toEqual({ "qa-1": "1.4.0" });
});

test("the documented script stops at once, non-zero, with the server's message, when the deploy call is refused", async ({ baseURL }) => {
  const badToken = await runScript({ RELEASEGATE: baseURL!, RELEASEGATE_TOKEN: "rgt_not-a-token", APP: f.seeded.applicationId }, 20_000);
  expect(badToken.timedOut, "it must not keep polling a deployment that does not exist").toBe(false);
  expect(badToken.code).not.toBe(0);
  expect(badToken.stderr).toContain('"code":"UNAUTHENTICATED"');

  const otherApp = await runScript({ RELEASEGATE: baseURL!, RELEASEGATE_TOKEN: f.seeded.apiToken, APP: "00000000-0000-4000-8000-000000000000" }, 20_000);
  expect(otherApp.timedOut).toBe(false);
  expect(otherApp.code).not.toBe(0);
  expect(otherApp.stderr).toContain('"code":"NOT_FOUND"');
});
