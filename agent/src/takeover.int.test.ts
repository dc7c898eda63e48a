// A server Releasegate takes over from another tool: its `current` points at a build that tool installed. A real
// agent (the bundle ops install) reports it, the environment's server list says what the server runs, and both a
// failed first deployment and a revert of a successful one return the server to that build, which is still on disk.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Before any module reads the environment: this file's artifacts go to a directory of its own.
const ARTIFACT_DIR = vi.hoisted(() => {
  const dir = `${process.env.TMPDIR ?? "/tmp"}/releasegate-takeover-${process.pid}-${Date.now()}`;
  process.env.ARTIFACT_DIR = dir;
  return dir;
});

import { type AgentApiServer, startAgentApiServer } from "../../test/agent-api-server";
import { waitFor } from "../../test/support/fleet";
import { RealAgent, uploadSample } from "../../test/support/real-agent";
import { createMember, createTenant, environmentsOf } from "../../test/factories";
import { db } from "../../lib/db/client";
import { deployOptions } from "../../lib/deployments/deploy-options";
import { requestDeployment } from "../../lib/deployments/request-deployment";
import { requestRevert } from "../../lib/deployments/request-revert";
import { getEnvironment } from "../../lib/environments/get-environment";
import { addTarget } from "../../lib/targets/add-target";
import { whatRuns } from "../../lib/targets/target-health";

let api: AgentApiServer;
let work: string;
const agents: RealAgent[] = [];

beforeAll(async () => {
  api = await startAgentApiServer();
  work = await fs.mkdtemp(path.join(os.tmpdir(), "rg-takeover-"));
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await api?.close();
  await fs.rm(work, { recursive: true, force: true });
  await fs.rm(ARTIFACT_DIR, { recursive: true, force: true });
});

/**
 * An application whose QA has one server laid out as Capistrano leaves it (releases/<timestamp>/ with a REVISION
 * file, `current` pointing at the newest), taken over by a real agent. `startCommand` fails for a release named "bad-…".
 */
async function takenOverServer(name: string) {
  const tenant = await createTenant();
  const [ops, dev] = await Promise.all([createMember(tenant, "OPS"), createMember(tenant, "DEVELOPER")]);
  const qa = (await environmentsOf(tenant.application.id))[0]!;
  await db.environment.update({
    where: { id: qa.id },
    data: { startCommand: `case "$RELEASEGATE_RELEASE_VERSION" in bad-*) echo "this build does not start"; exit 1;; esac`, healthCheckUrl: null },
  });
  const dir = path.join(work, name);
  for (const [stamp, revision] of [["20240101120000", "1a2b3c4"], ["20240301090000", "4f2a9c1"]] as const) {
    await fs.mkdir(path.join(dir, "releases", stamp), { recursive: true });
    await fs.writeFile(path.join(dir, "releases", stamp, "REVISION"), `${revision}\n`);
    await fs.writeFile(path.join(dir, "releases", stamp, "index.html"), `legacy ${revision}\n`);
  }
  await fs.symlink("releases/20240301090000", path.join(dir, "current"));
  const { target, enrollmentToken } = await addTarget(ops, { environmentId: qa.id, name });
  const agent = await RealAgent.enroll({ server: api.url, token: enrollmentToken, dir });
  agents.push(agent);
  await agent.start();
  await waitFor("the agent's report of current", async () => (await db.target.findUniqueOrThrow({ where: { id: target.id } })).currentKind === "foreign");
  return { tenant, ops, dev, qa, target, agent, dir };
}

async function runToEnd(deploymentId: string) {
  await waitFor("the deployment to end", async () => ["SUCCEEDED", "FAILED", "CANCELLED"].includes((await db.deployment.findUniqueOrThrow({ where: { id: deploymentId } })).status), 90_000);
  return db.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
}

describe("a server taken over from another tool", () => {
  it("shows what it runs, and a revert of Releasegate's first release returns it to that build", async () => {
    const s = await takenOverServer("web-1");
    const serverLine = async () => whatRuns((await getEnvironment(s.ops, { applicationId: s.tenant.application.id, environmentId: s.qa.id })).targets[0]!);
    expect(await serverLine()).toEqual({ text: "runs releases/20240301090000 (revision 4f2a9c1), installed outside Releasegate", outside: true });

    const release = await uploadSample(s.dev, s.tenant.application.id, "1.0.0", work);
    const first = await runToEnd((await requestDeployment(s.ops, { environmentId: s.qa.id, releaseId: release.id })).deployment.id);
    expect(first.status, first.failureReason ?? "").toBe("SUCCEEDED");
    expect(await fs.readlink(path.join(s.dir, "current"))).toMatch(/^releases\/1\.0\.0-[0-9a-f]{12}$/);
    expect((await serverLine()).text).toBe("runs 1.0.0");
    const activation = await db.deploymentStep.findFirstOrThrow({ where: { deploymentId: first.id, action: "ACTIVATE" }, include: { logs: true } });
    expect(activation.logs.map((l) => l.content).join("")).toContain("Switching web-1 from releases/20240301090000 (installed outside Releasegate) to 1.0.0");

    // The page says what a revert returns to: the build another tool installed, still on disk.
    const options = await deployOptions(s.ops, { environmentId: s.qa.id });
    expect(options.revert).toMatchObject({ releaseId: null, version: "the builds from before Releasegate", earlierBuilds: [{ server: "web-1", path: "releases/20240301090000" }] });

    const back = await runToEnd((await requestRevert(s.ops, { environmentId: s.qa.id, reason: "back to the old build" })).deployment.id);
    expect(back.status, back.failureReason ?? "").toBe("SUCCEEDED");
    expect(await fs.readlink(path.join(s.dir, "current"))).toBe("releases/20240301090000");
    expect(await fs.readFile(path.join(s.dir, "current", "index.html"), "utf8")).toBe("legacy 4f2a9c1\n");
    await waitFor("the agent's report", async () => (await serverLine()).text.includes("(revision 4f2a9c1)"));
    expect((await deployOptions(s.ops, { environmentId: s.qa.id })).revert).toBeNull();
    // The other tool's older build was never pruned.
    expect(await fs.readFile(path.join(s.dir, "releases", "20240101120000", "index.html"), "utf8")).toBe("legacy 1a2b3c4\n");
  }, 180_000);

  it("a first deployment that fails there rolls the server back to the build it ran, not onto the broken one", async () => {
    const s = await takenOverServer("web-2");
    const release = await uploadSample(s.dev, s.tenant.application.id, "bad-1.0.0", work);
    const d = await runToEnd((await requestDeployment(s.ops, { environmentId: s.qa.id, releaseId: release.id })).deployment.id);
    expect(d.status).toBe("FAILED");
    expect(d.failureReason).toMatch(/Rolled back to the previous release: web-2\.$/);
    expect(await fs.readlink(path.join(s.dir, "current"))).toBe("releases/20240301090000");
    const steps = await db.deploymentStep.findMany({ where: { deploymentId: d.id }, orderBy: { createdAt: "asc" } });
    expect(steps.map((x) => [x.action, x.status])).toEqual([
      ["STAGE", "SUCCEEDED"],
      ["ACTIVATE", "FAILED"],
      ["ROLLBACK", "SUCCEEDED"],
    ]);
    expect(steps[2]!.message).toBe("web-2 serves releases/20240301090000 again");
  }, 180_000);
});
