// Ops' settings for how releases reach the servers, against real PostgreSQL: an environment's rollout settings and
// a server's load-balancer membership. What is saved is what the next job an agent claims carries; a refused change
// (bad input, no permission, another tenant) changes nothing and records nothing.
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createMember, createReleaseRow, createTenant, environmentsOf, lastAuditSeq, testContext, auditEventsSince } from "../../test/factories";
import { authenticateAgent } from "../agents/authenticate-agent";
import { tryClaim } from "../agents/claim-job";
import { enrollAgent } from "../agents/enroll-agent";
import { recordHeartbeat } from "../agents/record-heartbeat";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { requestDeployment } from "../deployments/request-deployment";
import { addTarget } from "../targets/add-target";
import { type TUpdateRolloutSettingsRequest, updateRolloutSettings } from "./update-rollout-settings";

type Tenant = Awaited<ReturnType<typeof createTenant>>;

let tenant: Tenant;
let other: Tenant;
let ops: UserActor;
let dev: UserActor;
let otherOps: UserActor;
let productionId: string;

beforeAll(async () => {
  [tenant, other] = await Promise.all([createTenant(), createTenant()]);
  [ops, dev, otherOps] = await Promise.all([createMember(tenant, "OPS"), createMember(tenant, "DEVELOPER"), createMember(other, "OPS")]);
  productionId = (await environmentsOf(tenant.application.id))[2]!.id;
});

/** The settings form as a browser submits it: every field, as text (a bad value included, as a browser may send it). */
const form = (environmentId: string, changes: Partial<Record<keyof TUpdateRolloutSettingsRequest, string>> = {}) =>
  ({
    environmentId,
    strategy: "ROLLING",
    batchSize: "1",
    autoRollback: "on",
    healthCheckExpectsVersion: "",
    healthCheckFailAfter5xx: "3",
    healthCheckUrl: "",
    stopCommand: "",
    startCommand: "",
    backupCommand: "",
    migrateCommand: "",
    validateCommand: "",
    maintenanceOnCommand: "",
    maintenanceOffCommand: "",
    hookTimeoutSeconds: "120",
    keepReleases: "5",
    persistentPaths: "",
    ...changes,
  }) as TUpdateRolloutSettingsRequest;

const eventsSince = async (seq: bigint, objectId: string) => auditEventsSince(seq, { objectId });

describe("updateRolloutSettings", () => {
  it("saves the settings, records only the changed fields, and the next job carries them", async () => {
    const t = await createTenant();
    const tOps = await createMember(t, "OPS");
    const env = (await environmentsOf(t.application.id))[0]!; // QA: no gates
    const since = await lastAuditSeq();
    const { changed } = await updateRolloutSettings(
      tOps,
      form(env.id, {
        strategy: "ROLLING",
        batchSize: "2",
        healthCheckUrl: "http://${NODE_HOST}:8080/health",
        healthCheckFailAfter5xx: "5",
        startCommand: "  systemctl start shop  ",
        stopCommand: "systemctl stop shop",
        hookTimeoutSeconds: "300",
        keepReleases: "3",
        persistentPaths: "storage/uploads\n./var/cache/\n\nstorage/uploads",
      }),
    );
    expect(changed).toEqual(["strategy", "batchSize", "healthCheckUrl", "healthCheckFailAfter5xx", "stopCommand", "startCommand", "hookTimeoutSeconds", "keepReleases", "persistentPaths"]);
    const saved = await db.environment.findUniqueOrThrow({ where: { id: env.id } });
    expect(saved).toMatchObject({
      strategy: "ROLLING",
      batchSize: 2,
      autoRollback: true,
      healthCheckUrl: "http://${NODE_HOST}:8080/health",
      healthCheckFailAfter5xx: 5,
      startCommand: "systemctl start shop",
      stopCommand: "systemctl stop shop",
      migrateCommand: null,
      hookTimeoutSeconds: 300,
      keepReleases: 3,
      persistentPaths: ["storage/uploads", "var/cache"],
    });
    const [event, ...more] = await eventsSince(since, env.id);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ type: "ENVIRONMENT_UPDATED", actorId: tOps.id, applicationId: t.application.id, environmentId: env.id });
    expect(event!.before).toEqual({ strategy: "ALL_AT_ONCE", batchSize: 1, healthCheckUrl: null, healthCheckFailAfter5xx: 3, stopCommand: null, startCommand: null, hookTimeoutSeconds: 120, keepReleases: 5, persistentPaths: [] });
    expect(event!.after).toEqual({
      strategy: "ROLLING",
      batchSize: 2,
      healthCheckUrl: "http://${NODE_HOST}:8080/health",
      healthCheckFailAfter5xx: 5,
      stopCommand: "systemctl stop shop",
      startCommand: "systemctl start shop",
      hookTimeoutSeconds: 300,
      keepReleases: 3,
      persistentPaths: ["storage/uploads", "var/cache"],
    });

    // Clearing a command makes it "not configured" again; saving the same form twice records nothing the second time.
    const cleared = form(env.id, { strategy: "ROLLING", batchSize: "2", healthCheckUrl: "http://${NODE_HOST}:8080/health", healthCheckFailAfter5xx: "5", startCommand: "systemctl start shop", hookTimeoutSeconds: "300", keepReleases: "3", persistentPaths: "storage/uploads\nvar/cache" });
    expect((await updateRolloutSettings(tOps, cleared)).changed).toEqual(["stopCommand"]);
    const again = await lastAuditSeq();
    expect((await updateRolloutSettings(tOps, cleared)).changed).toEqual([]);
    expect(await eventsSince(again, env.id)).toEqual([]);

    // What an agent gets with its next job.
    const { enrollmentToken } = await addTarget(tOps, { environmentId: env.id, name: "qa-1" });
    const { agentSecret } = await enrollAgent({ token: enrollmentToken, hostname: "qa-1", agentVersion: "test" }, testContext());
    const agent = await authenticateAgent(`Bearer ${agentSecret}`, testContext());
    await recordHeartbeat(agent, { agentVersion: "test", hostname: "qa-1", liveReleaseId: null, stagedReleaseIds: [] });
    const dev = await createMember(t, "DEVELOPER");
    const r = await createReleaseRow({ applicationId: t.application.id, uploadedById: dev.id });
    await requestDeployment(dev, { environmentId: env.id, releaseId: r.id });
    const job = (await tryClaim(agent))!;
    expect(job.hooks).toMatchObject({ start: "systemctl start shop", stop: null, healthCheckUrl: "http://${NODE_HOST}:8080/health", healthCheckFailAfter5xx: 5, timeoutSeconds: 300 });
    expect(job).toMatchObject({ keepReleases: 3, persistentPaths: ["storage/uploads", "var/cache"] });
  });

  it.each([
    [{ healthCheckUrl: "ftp://example.test/health" }, /http:\/\/ or https:\/\//],
    [{ healthCheckUrl: "not a url" }, /http:\/\/ or https:\/\//],
    [{ hookTimeoutSeconds: "4" }, /At least 5/],
    [{ healthCheckFailAfter5xx: "-1" }, /At least 0/],
    [{ healthCheckFailAfter5xx: "101" }, /At most 100/],
    [{ healthCheckFailAfter5xx: "two" }, /how many 5xx answers in a row/],
    [{ hookTimeoutSeconds: "3601" }, /At most 3600/],
    [{ keepReleases: "0" }, /At least 1/],
    [{ keepReleases: "51" }, /At most 50/],
    [{ batchSize: "0" }, /At least 1/],
    [{ persistentPaths: "storage\n/etc/passwd" }, /\/etc\/passwd: use a path relative/],
    [{ persistentPaths: "storage/../../etc" }, /".." is not allowed/],
    [{ strategy: "SOMETIMES" }, /rolling or all at once/],
  ])("refuses %o with a readable message and changes nothing", async (changes, message) => {
    const before = await db.environment.findUniqueOrThrow({ where: { id: productionId } });
    const since = await lastAuditSeq();
    const e = await expectAppError(updateRolloutSettings(ops, form(productionId, changes)), "INVALID_INPUT", message);
    expect(Object.keys(e.fieldErrors ?? {})).toEqual(Object.keys(changes));
    expect(await db.environment.findUniqueOrThrow({ where: { id: productionId } })).toEqual(before);
    expect(await eventsSince(since, productionId)).toEqual([]);
  });

  it("is refused to a developer (FORBIDDEN) and unknown in another tenant (NOT_FOUND); neither changes anything", async () => {
    const before = await db.environment.findUniqueOrThrow({ where: { id: productionId } });
    const since = await lastAuditSeq();
    await expectAppError(updateRolloutSettings(dev, form(productionId, { batchSize: "3" })), "FORBIDDEN");
    await expectAppError(updateRolloutSettings(otherOps, form(productionId, { batchSize: "3" })), "NOT_FOUND");
    expect(await db.environment.findUniqueOrThrow({ where: { id: productionId } })).toEqual(before);
    expect(await eventsSince(since, productionId)).toEqual([]);
  });
});
