import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { auditEventsBy, createMember, createReleaseRow, createTenant, environmentsOf, lastAuditSeq, testContext } from "../../test/factories";
import { authenticateAgent } from "../agents/authenticate-agent";
import { readsEveryBalancer, tryClaim } from "../agents/claim-job";
import { enrollAgent } from "../agents/enroll-agent";
import { recordHeartbeat } from "../agents/record-heartbeat";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { requestDeployment } from "../deployments/request-deployment";
import { addTarget } from "../targets/add-target";
import { addBalancerMember } from "./add-balancer-member";
import { createBalancer } from "./create-balancer";
import { deleteBalancer } from "./delete-balancer";
import { listEnvironmentBalancers } from "./list-environment-balancers";
import { removeBalancerMember } from "./remove-balancer-member";
import { updateBalancer } from "./update-balancer";

type Tenant = Awaited<ReturnType<typeof createTenant>>;
let tenant: Tenant;
let ops: UserActor;
let dev: UserActor;
let otherOps: UserActor;
let qaId: string;
let productionId: string;

beforeAll(async () => {
  tenant = await createTenant();
  ops = await createMember(tenant, "OPS");
  dev = await createMember(tenant, "DEVELOPER");
  otherOps = await createMember(await createTenant(), "OPS");
  const envs = await environmentsOf(tenant.application.id);
  qaId = envs[0]!.id;
  productionId = envs[2]!.id;
});

const name = (prefix: string) => `${prefix}-${randomUUID().slice(0, 6)}`;

/** An enrolled agent of a new server in `environmentId`, as the agent API authenticates it. */
async function enrolledServer(environmentId: string, agentVersion = "0.3.0", actor = ops) {
  const { target, enrollmentToken } = await addTarget(actor, { environmentId, name: name("web") });
  const { agentSecret } = await enrollAgent({ token: enrollmentToken, hostname: target.name, agentVersion }, testContext());
  const agent = await authenticateAgent(`Bearer ${agentSecret}`, testContext());
  await recordHeartbeat(agent, { agentVersion, hostname: target.name, liveReleaseId: null, stagedReleaseIds: [] });
  return { target, agent };
}

describe("balancers", () => {
  it("are defined once per environment, changed and removed; each change is one audit event and the same settings again record nothing", async () => {
    const since = await lastAuditSeq();
    const b = await createBalancer(ops, { environmentId: productionId, name: "haproxy-a", kind: "HAPROXY", address: "/run/haproxy/a.sock" });
    await expectAppError(createBalancer(ops, { environmentId: productionId, name: "haproxy-a", kind: "HAPROXY", address: "/run/haproxy/b.sock" }), "CONFLICT", /already has a balancer named haproxy-a/);
    const { changed } = await updateBalancer(ops, { balancerId: b.id, name: "haproxy-a", kind: "HOOK", drainCommand: "lbctl drain", undrainCommand: "lbctl ready" });
    expect(changed.sort()).toEqual(["address", "drainCommand", "kind", "undrainCommand"]);
    // The other kind's fields are cleared, never left stale.
    expect(await db.balancer.findUniqueOrThrow({ where: { id: b.id } })).toMatchObject({ kind: "HOOK", address: null, drainCommand: "lbctl drain", undrainCommand: "lbctl ready" });
    expect((await updateBalancer(ops, { balancerId: b.id, name: "haproxy-a", kind: "HOOK", drainCommand: "lbctl drain", undrainCommand: "lbctl ready" })).changed).toEqual([]);
    await deleteBalancer(ops, { balancerId: b.id });
    expect(await db.balancer.findUnique({ where: { id: b.id } })).toBeNull();
    expect((await auditEventsBy(ops.id, since)).map((e) => e.type)).toEqual(["BALANCER_CREATED", "BALANCER_UPDATED", "BALANCER_DELETED"]);
  });

  it.each([
    [{ name: "lb", kind: "HAPROXY", address: "haproxy" }, "address", /socket path .* or host:port/],
    [{ name: "lb", kind: "HAPROXY", address: "10.0.0.1:70000" }, "address", /between 1 and 65535/],
    [{ name: "lb", kind: "HAPROXY", address: "" }, "address", /Enter the runtime API address/],
    [{ name: "lb", kind: "HOOK", drainCommand: "lbctl drain", undrainCommand: " " }, "undrainCommand", /Enter the undrain command/],
    [{ name: "", kind: "HAPROXY", address: "/run/h.sock" }, "name", /Enter the balancer's name/],
    [{ name: "lb;x", kind: "HAPROXY", address: "/run/h.sock" }, "name", /letters, digits/],
    [{ name: "lb", kind: "F5" }, "kind", /HAProxy \(runtime API\) or drain\/undrain commands/],
  ])("refuses %o with a readable message on its field and changes nothing", async (input, field, message) => {
    const before = await db.balancer.count({ where: { environmentId: productionId } });
    const since = await lastAuditSeq();
    const e = await expectAppError(createBalancer(ops, { environmentId: productionId, ...input } as Parameters<typeof createBalancer>[1]), "INVALID_INPUT", message);
    expect(Object.keys(e.fieldErrors ?? {})).toContain(field);
    expect(await db.balancer.count({ where: { environmentId: productionId } })).toBe(before);
    expect(await auditEventsBy(ops.id, since)).toEqual([]);
  });

  it("are refused to a developer and do not exist for another tenant's ops (word for word as an unknown id); neither changes anything", async () => {
    const b = await createBalancer(ops, { environmentId: productionId, name: name("guarded"), kind: "HAPROXY", address: "/run/h.sock" });
    const { target } = await addTarget(ops, { environmentId: productionId, name: name("web") });
    const input = { balancerId: b.id, name: b.name, kind: "HAPROXY" as const, address: "/run/other.sock" };
    await expectAppError(updateBalancer(dev, input), "FORBIDDEN");
    await expectAppError(createBalancer(dev, { environmentId: productionId, name: "x", kind: "HAPROXY", address: "/run/h.sock" }), "FORBIDDEN");
    const unknown = await expectAppError(updateBalancer(otherOps, { ...input, balancerId: randomUUID() }), "NOT_FOUND");
    for (const attempt of [
      updateBalancer(otherOps, input),
      deleteBalancer(otherOps, { balancerId: b.id }),
      addBalancerMember(otherOps, { balancerId: b.id, targetId: target.id, backend: "be", server: "s" }),
    ]) {
      expect((await expectAppError(attempt, "NOT_FOUND")).message).toBe(unknown.message);
    }
    await expectAppError(createBalancer(otherOps, { environmentId: productionId, name: "x", kind: "HAPROXY", address: "/run/h.sock" }), "NOT_FOUND", "Environment not found.");
    expect(await db.balancer.findUniqueOrThrow({ where: { id: b.id } })).toMatchObject({ address: "/run/h.sock" });
    expect(await db.balancerMembership.count({ where: { balancerId: b.id } })).toBe(0);
    // The other tenant's attempts are not filed in this tenant's record.
    expect(await db.auditEvent.count({ where: { actorId: otherOps.id, applicationId: tenant.application.id } })).toBe(0);
  });
});

describe("memberships", () => {
  it("put a server behind several balancers; HAProxy needs backend and server names, commands default to the server's name", async () => {
    const a = await createBalancer(ops, { environmentId: productionId, name: name("haproxy-a"), kind: "HAPROXY", address: "/run/a.sock" });
    const h = await createBalancer(ops, { environmentId: productionId, name: name("cloud"), kind: "HOOK", drainCommand: "lb off", undrainCommand: "lb on" });
    const { target } = await addTarget(ops, { environmentId: productionId, name: name("web") });
    const e = await expectAppError(addBalancerMember(ops, { balancerId: a.id, targetId: target.id, backend: "", server: "web 1" }), "INVALID_INPUT");
    expect(Object.keys(e.fieldErrors ?? {}).sort()).toEqual(["backend", "server"]);
    await addBalancerMember(ops, { balancerId: a.id, targetId: target.id, backend: "be_web", server: "web1" });
    await addBalancerMember(ops, { balancerId: h.id, targetId: target.id });
    await expectAppError(addBalancerMember(ops, { balancerId: a.id, targetId: target.id, backend: "be_web", server: "web1" }), "CONFLICT", /already behind/);
    const view = await listEnvironmentBalancers(ops, tenant.application.id, productionId);
    expect(view.find((b) => b.id === h.id)!.members).toEqual([expect.objectContaining({ targetName: target.name, backend: "", server: target.name, observed: null })]);
    expect(view.find((b) => b.id === a.id)!.members).toEqual([expect.objectContaining({ targetName: target.name, backend: "be_web", server: "web1" })]);
    // People who do not manage servers see the balancers, not how they are reached.
    const devView = await listEnvironmentBalancers(dev, tenant.application.id, productionId);
    expect(devView.find((b) => b.id === a.id)).toMatchObject({ address: null, drainCommand: null });
    expect(devView.find((b) => b.id === h.id)).toMatchObject({ drainCommand: null, undrainCommand: null });
  });

  it("a server of another environment cannot be put behind a balancer (not found, nothing changes)", async () => {
    const a = await createBalancer(ops, { environmentId: productionId, name: name("haproxy"), kind: "HAPROXY", address: "/run/a.sock" });
    const { target } = await addTarget(ops, { environmentId: qaId, name: name("qa") });
    await expectAppError(addBalancerMember(ops, { balancerId: a.id, targetId: target.id, backend: "be", server: "s" }), "NOT_FOUND", "Server not found.");
    expect(await db.balancerMembership.count({ where: { balancerId: a.id } })).toBe(0);
  });

  it("cannot change while a rollout runs in the environment: its servers may be out of the balancer", async () => {
    const t = await createTenant();
    const tOps = await createMember(t, "OPS");
    const qa = (await environmentsOf(t.application.id))[0]!;
    const { target } = await enrolledServer(qa.id, "0.3.0", tOps);
    const b = await createBalancer(tOps, { environmentId: qa.id, name: "haproxy", kind: "HAPROXY", address: "/run/a.sock" });
    const { membership } = await addBalancerMember(tOps, { balancerId: b.id, targetId: target.id, backend: "be", server: "s1" });
    const r = await createReleaseRow({ applicationId: t.application.id, uploadedById: tOps.id, version: "1.0.0" });
    await requestDeployment(tOps, { environmentId: qa.id, releaseId: r.id });
    const { target: other } = await addTarget(tOps, { environmentId: qa.id, name: "qa-2" });
    const since = await lastAuditSeq();
    const busy = /A deployment of 1\.0\.0 to QA is in progress .* Change the balancers once it has ended\./;
    await expectAppError(updateBalancer(tOps, { balancerId: b.id, name: "haproxy", kind: "HAPROXY", address: "/run/b.sock" }), "CONFLICT", busy);
    await expectAppError(deleteBalancer(tOps, { balancerId: b.id }), "CONFLICT", busy);
    await expectAppError(removeBalancerMember(tOps, { membershipId: membership.id }), "CONFLICT", busy);
    await expectAppError(addBalancerMember(tOps, { balancerId: b.id, targetId: other.id, backend: "be", server: "s2" }), "CONFLICT", busy);
    expect(await db.balancerMembership.count({ where: { balancerId: b.id } })).toBe(1);
    expect(await auditEventsBy(tOps.id, since)).toEqual([]);
  });
});

describe("jobs and heartbeats", () => {
  async function serverBehindTwo(agentVersion: string) {
    const t = await createTenant();
    const tOps = await createMember(t, "OPS");
    const qa = (await environmentsOf(t.application.id))[0]!;
    const { target, agent } = await enrolledServer(qa.id, agentVersion, tOps);
    const b = await createBalancer(tOps, { environmentId: qa.id, name: "haproxy-b", kind: "HAPROXY", address: "127.0.0.1:9102" });
    const a = await createBalancer(tOps, { environmentId: qa.id, name: "haproxy-a", kind: "HAPROXY", address: "127.0.0.1:9101" });
    await addBalancerMember(tOps, { balancerId: b.id, targetId: target.id, backend: "be_qa", server: "qa1" });
    await addBalancerMember(tOps, { balancerId: a.id, targetId: target.id, backend: "be_qa", server: "qa1" });
    const r = await createReleaseRow({ applicationId: t.application.id, uploadedById: tOps.id, version: "2.0.0" });
    // Staged already: the first job is the activation, which drains.
    await db.target.update({ where: { id: target.id }, data: { stagedReleaseIds: [r.id] } });
    const { deployment } = await requestDeployment(tOps, { environmentId: qa.id, releaseId: r.id });
    return { t, target, agent, deploymentId: deployment.id };
  }

  it("a job carries every balancer of its server, by name, and the first one for agents that read only one", async () => {
    const { agent } = await serverBehindTwo("0.3.0");
    const job = await tryClaim(agent);
    expect(job!.action).toBe("ACTIVATE");
    expect(job!.loadBalancers).toEqual([
      { kind: "HAPROXY", name: "haproxy-a", address: "127.0.0.1:9101", backend: "be_qa", server: "qa1" },
      { kind: "HAPROXY", name: "haproxy-b", address: "127.0.0.1:9102", backend: "be_qa", server: "qa1" },
    ]);
    expect(job!.loadBalancer).toEqual({ kind: "HAPROXY", address: "127.0.0.1:9101", backend: "be_qa", server: "qa1" });
  });

  it("an agent older than 0.3.0 behind two balancers gets no activation: the step fails saying what to install", async () => {
    const { agent, target, deploymentId } = await serverBehindTwo("0.2.0");
    expect(await tryClaim(agent)).toBeNull();
    const step = await db.deploymentStep.findFirstOrThrow({ where: { deploymentId, targetId: target.id } });
    expect(step.status).toBe("FAILED");
    expect(step.message).toBe(
      `The agent of ${target.name} is version 0.2.0, which takes a server out of one load balancer only, and ${target.name} is behind 2 (haproxy-a, haproxy-b). Install agent 0.3.0 or newer (/downloads/releasegate-agent.mjs) on it and deploy again.`,
    );
    await expect.poll(async () => (await db.deployment.findUniqueOrThrow({ where: { id: deploymentId } })).status).toBe("FAILED");
  });

  it("readsEveryBalancer compares versions numerically", () => {
    expect(readsEveryBalancer("0.3.0")).toBe(true);
    expect(readsEveryBalancer("0.10.0")).toBe(true);
    expect(readsEveryBalancer("1.0.0-rc.1")).toBe(true);
    expect(readsEveryBalancer("0.2.9")).toBe(false);
    expect(readsEveryBalancer("test")).toBe(false);
    expect(readsEveryBalancer(null)).toBe(false);
  });

  it("a heartbeat's answer names the HAProxy memberships to read; readings are kept for the server's own memberships only", async () => {
    const { t, agent, target } = await serverBehindTwo("0.3.0");
    const beat = { agentVersion: "0.3.0", hostname: target.name, liveReleaseId: null, stagedReleaseIds: [] };
    const first = await recordHeartbeat(agent, beat);
    expect(first.balancers!.map((b) => [b.balancer, b.address, b.backend, b.server])).toEqual([
      ["haproxy-a", "127.0.0.1:9101", "be_qa", "qa1"],
      ["haproxy-b", "127.0.0.1:9102", "be_qa", "qa1"],
    ]);
    const [a, b] = first.balancers!;
    // Another server's membership, named by a forged reading, is left alone.
    const intruder = await enrolledServer((await environmentsOf(t.application.id))[0]!.id, "0.3.0", await createMember(t, "OPS"));
    await recordHeartbeat(intruder.agent, { ...beat, balancers: [{ membershipId: a!.membershipId, adminState: "MAINT", status: "MAINT", sessions: 0, check: null, responses: 0, http5xx: 0, rtimeMs: 0 }] });
    expect((await db.balancerMembership.findUniqueOrThrow({ where: { id: a!.membershipId } })).observedAt).toBeNull();

    await recordHeartbeat(agent, {
      ...beat,
      balancers: [
        { membershipId: a!.membershipId, adminState: "READY", status: "UP", sessions: 3, check: "L7OK 200", responses: 1200, http5xx: 7, rtimeMs: 12 },
        { membershipId: b!.membershipId, error: "HAProxy runtime API at 127.0.0.1:9102 is unreachable (ECONNREFUSED)" },
      ],
    });
    const view = await listEnvironmentBalancers(await createMember(t, "OPS"), t.application.id, (await environmentsOf(t.application.id))[0]!.id);
    expect(view.find((x) => x.name === "haproxy-a")!.members[0]!.observed).toMatchObject({ adminState: "READY", status: "UP", sessions: 3, check: "L7OK 200", responses: 1200, http5xx: 7, rtimeMs: 12, error: null });
    expect(view.find((x) => x.name === "haproxy-b")!.members[0]!.observed).toMatchObject({ error: "HAProxy runtime API at 127.0.0.1:9102 is unreachable (ECONNREFUSED)", adminState: null });

    // A later failure keeps the last good figures beside the error.
    await recordHeartbeat(agent, { ...beat, balancers: [{ membershipId: a!.membershipId, error: "no answer within 2 s" }] });
    expect(await db.balancerMembership.findUniqueOrThrow({ where: { id: a!.membershipId } })).toMatchObject({ observedError: "no answer within 2 s", observedSessions: 3, observed5xx: 7n });
  });
});
