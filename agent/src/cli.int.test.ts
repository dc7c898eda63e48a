// The bundled agent's command line (agent/dist/releasegate-agent.mjs, what ops install) against the real agent API
// over HTTP and a real database: how ops hand it its one-time token, and what `status` tells them.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentApiServer, startAgentApiServer } from "../../test/agent-api-server";
import { createMember, createReleaseRow, createTenant, environmentsOf, testContext, uniq } from "../../test/factories";
import { ensureAgentBundle } from "../../test/support/fleet";
import { authenticateAgent } from "../../lib/agents/authenticate-agent";
import { tryClaim } from "../../lib/agents/claim-job";
import { recordHeartbeat } from "../../lib/agents/record-heartbeat";
import type { UserActor } from "../../lib/auth/actor";
import { db } from "../../lib/db/client";
import { requestDeployment } from "../../lib/deployments/request-deployment";
import { addTarget } from "../../lib/targets/add-target";
import { revokeAgent } from "../../lib/targets/revoke-agent";
import { ZAgentConfigSchema } from "./config";

let api: AgentApiServer;
let bundle: string;
let ops: UserActor;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let productionId: string;
let work: string;

beforeAll(async () => {
  [api, bundle] = await Promise.all([startAgentApiServer(), ensureAgentBundle()]);
  tenant = await createTenant();
  ops = await createMember(tenant, "OPS");
  const production = (await environmentsOf(tenant.application.id))[2]!;
  productionId = production.id;
  await db.environment.update({ where: { id: productionId }, data: { requiresPreviousSuccess: false, requiresAcceptance: false, requiredApprovals: 0 } });
  work = await fs.mkdtemp(path.join(os.tmpdir(), "rg-agent-cli-"));
}, 120_000);

afterAll(async () => {
  await api.close();
  await fs.rm(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the agent bundle as ops would in a shell; `stdin` is piped in (as `echo $TOKEN | releasegate-agent …`). */
function agent(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...options.env };
    delete env.RELEASEGATE_ENROLL_TOKEN;
    if (options.env?.RELEASEGATE_ENROLL_TOKEN) env.RELEASEGATE_ENROLL_TOKEN = options.env.RELEASEGATE_ENROLL_TOKEN;
    const child = spawn(process.execPath, [bundle, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}

async function newServer(environmentId = productionId, by = ops) {
  const name = uniq("web");
  const { target, enrollmentToken } = await addTarget(by, { environmentId, name });
  const dir = path.join(work, name);
  return { name, target, token: enrollmentToken, dir };
}

const readConfig = async (dir: string) => ZAgentConfigSchema.parse(JSON.parse(await fs.readFile(path.join(dir, ".releasegate", "agent.json"), "utf8")));

describe("enroll", () => {
  it("takes the one-time token from RELEASEGATE_ENROLL_TOKEN, so it never appears in the process list", async () => {
    const s = await newServer();
    const r = await agent(["enroll", "--server", api.url, "--dir", s.dir, "--var", "PORT=8081"], { env: { RELEASEGATE_ENROLL_TOKEN: s.token } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Enrolled as ${s.name}`);
    expect(await readConfig(s.dir)).toMatchObject({ targetId: s.target.id, vars: { PORT: "8081" } });
    expect((await db.target.findUniqueOrThrow({ where: { id: s.target.id } })).status).toBe("ACTIVE");
  });

  it("reads the token from standard input with --token -, and when standard input is a pipe", async () => {
    const a = await newServer();
    const dashed = await agent(["enroll", "--server", api.url, "--token", "-", "--dir", a.dir], { stdin: `${a.token}\n` });
    expect(dashed.code).toBe(0);
    expect(dashed.stderr).toBe("");
    expect((await readConfig(a.dir)).targetId).toBe(a.target.id);

    const b = await newServer();
    const piped = await agent(["enroll", "--server", api.url, "--dir", b.dir], { stdin: b.token });
    expect(piped.code).toBe(0);
    expect((await readConfig(b.dir)).targetId).toBe(b.target.id);
  });

  it("still takes --token TOKEN, with a warning that other users can read it in ps", async () => {
    const s = await newServer();
    const r = await agent(["enroll", "--server", api.url, "--token", s.token, "--dir", s.dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/visible to other users.*\bps\b.*RELEASEGATE_ENROLL_TOKEN/s);
    expect((await readConfig(s.dir)).targetId).toBe(s.target.id);
  });

  it("without a token anywhere says where to put it and enrolls nothing", async () => {
    const s = await newServer();
    const r = await agent(["enroll", "--server", api.url, "--dir", s.dir], { stdin: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("RELEASEGATE_ENROLL_TOKEN");
    await expect(fs.stat(path.join(s.dir, ".releasegate", "agent.json"))).rejects.toThrow();
    expect((await db.target.findUniqueOrThrow({ where: { id: s.target.id } })).status).toBe("PENDING");
  });
});

describe("status", () => {
  it("says a server is not enrolled, and exits non-zero", async () => {
    const r = await agent(["status", "--dir", path.join(work, uniq("empty"))]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^enrolled: no\b/m);
  });

  it("says enrolled, connected and idle, then which job it holds, and whether the control plane can be reached", async () => {
    // An application of its own: this server is its production's only one.
    const own = await createTenant();
    const ownOps = await createMember(own, "OPS");
    const production = (await environmentsOf(own.application.id))[2]!;
    await db.environment.update({ where: { id: production.id }, data: { requiresPreviousSuccess: false, requiresAcceptance: false, requiredApprovals: 0 } });
    const s = await newServer(production.id, ownOps);
    expect((await agent(["enroll", "--server", api.url, "--dir", s.dir], { env: { RELEASEGATE_ENROLL_TOKEN: s.token } })).code).toBe(0);

    const idle = await agent(["status", "--dir", s.dir]);
    expect(idle.code).toBe(0);
    expect(idle.stdout).toMatch(new RegExp(`^enrolled: yes, as ${s.name} in ${own.application.name} / Production`, "m"));
    expect(idle.stdout).toMatch(/^connected: yes\b/m);
    expect(idle.stdout).toMatch(/^job: idle$/m);

    // The control plane hands this server a job (the agent's `run` would do the claiming).
    const authenticated = await authenticateAgent(`Bearer ${(await readConfig(s.dir)).agentSecret}`, testContext());
    await recordHeartbeat(authenticated, { agentVersion: "test", hostname: "h", liveReleaseId: null, stagedReleaseIds: [] });
    const release = await createReleaseRow({ applicationId: own.application.id, uploadedById: own.admin.id, version: uniq("1.0") });
    await requestDeployment(ownOps, { environmentId: production.id, releaseId: release.id });
    expect(await tryClaim(authenticated)).not.toBeNull();
    const busy = await agent(["status", "--dir", s.dir]);
    expect(busy.code).toBe(0);
    expect(busy.stdout).toMatch(new RegExp(`^job: holds stage of ${release.version.replace(/\./g, "\\.")}`, "m"));

    await revokeAgent(ownOps, { targetId: s.target.id });
    const refused = await agent(["status", "--dir", s.dir]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^connected: no, the control plane refused this agent's secret \(revoked or rotated\)/m);
  });

  it("says when the control plane cannot be reached, and exits non-zero", async () => {
    const s = await newServer();
    expect((await agent(["enroll", "--server", api.url, "--dir", s.dir], { env: { RELEASEGATE_ENROLL_TOKEN: s.token } })).code).toBe(0);
    const config = await readConfig(s.dir);
    // The same agent pointed at a port nobody listens on.
    const unreachable = path.join(s.dir, "unreachable.json");
    await fs.writeFile(unreachable, JSON.stringify({ ...config, server: "http://127.0.0.1:9" }), { mode: 0o600 });
    const r = await agent(["status", "--dir", s.dir, "--config", unreachable]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^enrolled: yes\b/m);
    expect(r.stdout).toMatch(/^connected: no, could not reach http:\/\/127\.0\.0\.1:9/m);
  });
});
