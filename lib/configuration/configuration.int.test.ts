import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { auditEventsBy, createMember, createReleaseRow, createTenant, environmentsOf, lastAuditSeq, testContext } from "../../test/factories";
import { authenticateAgent } from "../agents/authenticate-agent";
import { enrollAgent } from "../agents/enroll-agent";
import { recordHeartbeat } from "../agents/record-heartbeat";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { requestDeployment } from "../deployments/request-deployment";
import { addTarget } from "../targets/add-target";
import { applyConfiguration } from "./apply-configuration";
import type { TConfigurationDocument } from "./configuration-document";
import { readConfiguration } from "./read-configuration";

type Tenant = Awaited<ReturnType<typeof createTenant>>;
let tenant: Tenant;
let ops: UserActor;
let dev: UserActor;

beforeAll(async () => {
  tenant = await createTenant();
  ops = await createMember(tenant, "OPS");
  dev = await createMember(tenant, "DEVELOPER");
});

const production = (doc: TConfigurationDocument) => doc.environments.find((e) => e.name === "Production")!;

/** The file a team would commit for a redundant pair in front of three servers. */
function withPair(doc: TConfigurationDocument): TConfigurationDocument {
  const next = structuredClone(doc);
  const p = production(next);
  p.rollout.batchSize = 2;
  p.rollout.stopCommand = "systemctl stop shop";
  p.balancers = [
    { name: "haproxy-a", kind: "HAPROXY", address: "/run/haproxy/a.sock" },
    { name: "haproxy-b", kind: "HAPROXY", address: "10.0.0.6:9999" },
  ];
  p.servers = ["web-1", "web-2", "web-3"].map((name, i) => ({
    name,
    behind: [
      { balancer: "haproxy-a", backend: "be_web", server: `web${i + 1}` },
      { balancer: "haproxy-b", backend: "be_web", server: `web${i + 1}` },
    ],
  }));
  return next;
}

describe("the configuration file", () => {
  it("reads back exactly what it applied; applying it again changes nothing and records nothing", async () => {
    const t = await createTenant();
    const tOps = await createMember(t, "OPS");
    const file = withPair(await readConfiguration(tOps, t.application.id));
    await applyConfiguration(tOps, t.application.id, file, { dryRun: false });
    expect(await readConfiguration(tOps, t.application.id)).toEqual(file);
    const since = await lastAuditSeq();
    expect(await applyConfiguration(tOps, t.application.id, JSON.parse(JSON.stringify(file)), { dryRun: false })).toEqual({ dryRun: false, changes: [], notes: [], enrollmentTokens: [] });
    expect(await auditEventsBy(tOps.id, since)).toEqual([]);
  });

  it("a dry run lists the changes and writes nothing; applying makes them as one audited change and shows new servers' tokens once", async () => {
    const t = await createTenant();
    const tOps = await createMember(t, "OPS");
    const before = await readConfiguration(tOps, t.application.id);
    const file = withPair(before);
    const since = await lastAuditSeq();
    const dry = await applyConfiguration(tOps, t.application.id, file, { dryRun: true });
    expect(dry.changes).toEqual([
      "Production: batchSize 1 → 2",
      "Production: stopCommand none → systemctl stop shop",
      "Production: add balancer haproxy-a (HAProxy at /run/haproxy/a.sock)",
      "Production: add balancer haproxy-b (HAProxy at 10.0.0.6:9999)",
      "Production: add server web-1 (an enrollment token is issued for it)",
      "Production: put web-1 behind haproxy-a as be_web/web1",
      "Production: put web-1 behind haproxy-b as be_web/web1",
      "Production: add server web-2 (an enrollment token is issued for it)",
      "Production: put web-2 behind haproxy-a as be_web/web2",
      "Production: put web-2 behind haproxy-b as be_web/web2",
      "Production: add server web-3 (an enrollment token is issued for it)",
      "Production: put web-3 behind haproxy-a as be_web/web3",
      "Production: put web-3 behind haproxy-b as be_web/web3",
    ]);
    expect(dry.enrollmentTokens).toEqual([]);
    expect(await readConfiguration(tOps, t.application.id)).toEqual(before);
    expect(await auditEventsBy(tOps.id, since)).toEqual([]);

    const applied = await applyConfiguration(tOps, t.application.id, file, { dryRun: false });
    expect(applied.changes).toEqual(dry.changes);
    expect(applied.enrollmentTokens.map((x) => [x.environment, x.server, x.token.slice(0, 4)])).toEqual([
      ["Production", "web-1", "rge_"],
      ["Production", "web-2", "rge_"],
      ["Production", "web-3", "rge_"],
    ]);
    const events = await auditEventsBy(tOps.id, since);
    expect(events.map((e) => e.type)).toEqual(["CONFIGURATION_APPLIED"]);
    expect(events[0]!.summary).toMatch(/^applied a configuration file to .*: 13 changes \(Production: batchSize 1 → 2; /);
    expect((events[0]!.data as { changes: string[] }).changes).toEqual(dry.changes);
    // The tokens themselves are never recorded.
    expect(JSON.stringify(events[0], (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain(applied.enrollmentTokens[0]!.token.slice(4));
  });

  it("changes memberships and balancers, and leaves what the file does not name, saying so", async () => {
    const t = await createTenant();
    const tOps = await createMember(t, "OPS");
    const file = withPair(await readConfiguration(tOps, t.application.id));
    await applyConfiguration(tOps, t.application.id, file, { dryRun: false });
    await addTarget(tOps, { environmentId: (await environmentsOf(t.application.id))[2]!.id, name: "web-9" });
    const next = structuredClone(file);
    const p = production(next);
    p.balancers = [{ name: "haproxy-a", kind: "HAPROXY", address: "/run/haproxy/a2.sock" }];
    p.servers = p.servers.map((s) => ({ ...s, behind: s.behind.filter((m) => m.balancer === "haproxy-a").map((m) => (s.name === "web-1" ? { ...m, server: "w1" } : m)) }));
    next.environments = next.environments.filter((e) => e.name !== "QA");
    const r = await applyConfiguration(tOps, t.application.id, next, { dryRun: false });
    expect(r.changes).toEqual([
      "Production: change balancer haproxy-a",
      "Production: remove balancer haproxy-b (its servers are no longer drained there)",
      "Production: take web-1 off haproxy-a (be_web/web1)",
      "Production: put web-1 behind haproxy-a as be_web/w1",
    ]);
    expect(r.notes).toEqual([
      "Server web-9 of Production is not in the file and is left as it is (a server leaves by revoking its agent on the environment's page).",
      "Environment QA is not in the file and is left as it is.",
    ]);
    const after = production(await readConfiguration(tOps, t.application.id));
    expect(after.balancers).toEqual([{ name: "haproxy-a", kind: "HAPROXY", address: "/run/haproxy/a2.sock" }]);
    expect(after.servers.find((s) => s.name === "web-1")!.behind).toEqual([{ balancer: "haproxy-a", backend: "be_web", server: "w1" }]);
  });

  it("sites: adds them in the file's order, puts servers in them, sets how rollouts cross them; reorders and removes an emptied one", async () => {
    const t = await createTenant();
    const tOps = await createMember(t, "OPS");
    const file = withPair(await readConfiguration(tOps, t.application.id));
    const p = production(file);
    p.sites = ["fra-1", "ams-1"];
    p.siteRollout = { siteOrder: "CHOSEN", siteFloor: 1, pauseAfterFirstSite: true };
    p.servers = p.servers.map((s, i) => ({ ...s, site: i === 0 ? "fra-1" : "ams-1" }));
    const r = await applyConfiguration(tOps, t.application.id, file, { dryRun: false });
    expect(r.changes.filter((c) => /site|pause/i.test(c))).toEqual([
      "Production: siteFloor 0 → 1",
      "Production: pauseAfterFirstSite false → true",
      "Production: add site fra-1",
      "Production: add site ams-1",
      "Production: put web-1 in site fra-1",
      "Production: put web-2 in site ams-1",
      "Production: put web-3 in site ams-1",
    ]);
    expect(await readConfiguration(tOps, t.application.id)).toEqual(file);

    const next = structuredClone(file);
    production(next).sites = ["ams-1"];
    production(next).servers = production(next).servers.map((s) => ({ ...s, site: "ams-1" }));
    const r2 = await applyConfiguration(tOps, t.application.id, next, { dryRun: false });
    expect(r2.changes).toEqual(["Production: put web-1 in site ams-1", "Production: remove site fra-1"]);
    expect(await readConfiguration(tOps, t.application.id)).toEqual(next);
    production(next).sites = ["lon-1", "ams-1"];
    await applyConfiguration(tOps, t.application.id, next, { dryRun: false });
    expect(production(await readConfiguration(tOps, t.application.id)).sites).toEqual(["lon-1", "ams-1"]);
  });

  it("refuses a file it cannot apply, saying where, and changes nothing", async () => {
    const file = withPair(await readConfiguration(ops, tenant.application.id));
    const bad = structuredClone(file);
    production(bad).servers[0]!.behind.push({ balancer: "haproxy-z", backend: "be", server: "s" });
    production(bad).servers[1]!.behind = [{ balancer: "haproxy-a" }];
    bad.environments.push({ ...structuredClone(production(bad)), name: "Staging" });
    const since = await lastAuditSeq();
    await expectAppError(
      applyConfiguration(ops, tenant.application.id, bad, { dryRun: false }),
      "INVALID_INPUT",
      "The file cannot be applied: environment Production, server web-1, behind haproxy-z: the file lists no balancer haproxy-z in Production. environment Production, server web-2, behind haproxy-a: HAProxy needs the backend and the server's name there (backend, server). The application has no environment Staging: an administrator adds environments on the application's settings page.",
    );
    const e = await expectAppError(applyConfiguration(ops, tenant.application.id, { ...file, format: "v0" }, { dryRun: true }), "INVALID_INPUT");
    expect(e.message).toBe('format: Start the file with "format": "releasegate.application/v1".');
    await expectAppError(applyConfiguration(ops, tenant.application.id, { ...file, extra: 1 }, { dryRun: true }), "INVALID_INPUT", /Unrecognized key: "extra"/);
    expect(production(await readConfiguration(ops, tenant.application.id)).balancers).toEqual([]);
    expect(await auditEventsBy(ops.id, since)).toEqual([]);
  });

  it("policy is an administrator's: ops are refused the whole file, an administrator applies it", async () => {
    const t = await createTenant();
    const tOps = await createMember(t, "OPS");
    const file = withPair(await readConfiguration(tOps, t.application.id));
    production(file).policy.requiredApprovals = 2;
    await expectAppError(applyConfiguration(tOps, t.application.id, file, { dryRun: true }), "FORBIDDEN", "Only a platform administrator changes environments' policy; the file changes Production: requiredApprovals 1 → 2.");
    expect(production(await readConfiguration(tOps, t.application.id)).balancers).toEqual([]);
    const r = await applyConfiguration(t.admin, t.application.id, file, { dryRun: false });
    expect(r.changes).toContain("Production: requiredApprovals 1 → 2");
    expect(production(await readConfiguration(tOps, t.application.id)).policy.requiredApprovals).toBe(2);
  });

  it("is not readable by a developer, and does not exist for another tenant (word for word as an unknown id)", async () => {
    await expectAppError(readConfiguration(dev, tenant.application.id), "FORBIDDEN");
    const otherOps = await createMember(await createTenant(), "OPS");
    const unknown = await expectAppError(readConfiguration(otherOps, randomUUID()), "NOT_FOUND");
    expect((await expectAppError(readConfiguration(otherOps, tenant.application.id), "NOT_FOUND")).message).toBe(unknown.message);
    const file = await readConfiguration(ops, tenant.application.id);
    expect((await expectAppError(applyConfiguration(otherOps, tenant.application.id, file, { dryRun: true }), "NOT_FOUND")).message).toBe(unknown.message);
  });

  it("balancer changes wait until a rollout in that environment has ended", async () => {
    const t = await createTenant();
    const tOps = await createMember(t, "OPS");
    const qa = (await environmentsOf(t.application.id))[0]!;
    const { enrollmentToken } = await addTarget(tOps, { environmentId: qa.id, name: "qa-1" });
    const { agentSecret } = await enrollAgent({ token: enrollmentToken, hostname: "qa-1", agentVersion: "0.3.0" }, testContext());
    await recordHeartbeat(await authenticateAgent(`Bearer ${agentSecret}`, testContext()), { agentVersion: "0.3.0", hostname: "qa-1", liveReleaseId: null, stagedReleaseIds: [] });
    const r = await createReleaseRow({ applicationId: t.application.id, uploadedById: tOps.id, version: "1.0.0" });
    await requestDeployment(tOps, { environmentId: qa.id, releaseId: r.id });
    const file = await readConfiguration(tOps, t.application.id);
    file.environments[0]!.balancers = [{ name: "haproxy", kind: "HAPROXY", address: "/run/h.sock" }];
    await expectAppError(applyConfiguration(tOps, t.application.id, file, { dryRun: false }), "CONFLICT", /A deployment of 1\.0\.0 to QA is in progress/);
    expect(await db.balancer.count({ where: { environmentId: qa.id } })).toBe(0);
  });
});
