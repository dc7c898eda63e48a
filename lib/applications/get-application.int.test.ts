// The application dashboard's data, against real PostgreSQL: per environment, the release it should run (for drift)
// is the one of its last successful deployment, a revert's included, never a failed or unfinished one.
import { describe, expect, it } from "vitest";
import { createMember, createReleaseRow, createTenant, environmentsOf, uniq } from "../../test/factories";
import { db } from "../db/client";
import { hasDrift } from "../targets/target-health";
import { getApplication } from "./get-application";

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);

describe("getApplication", () => {
  it("gives each environment the release of its last successful deployment, and none before the first", async () => {
    const tenant = await createTenant();
    const ops = await createMember(tenant, "OPS");
    const [qa, acceptance, production] = await environmentsOf(tenant.application.id);
    const [r1, r2, r3, r4] = await Promise.all([1, 2, 3, 4].map(() => createReleaseRow({ applicationId: tenant.application.id, uploadedById: ops.id, version: uniq("6.0") })));
    const deployment = (releaseId: string, environmentId: string, status: "SUCCEEDED" | "FAILED" | "RUNNING", finished: number | null, kind: "DEPLOY" | "REVERT" = "DEPLOY") =>
      db.deployment.create({ data: { releaseId, environmentId, kind, strategy: "ALL_AT_ONCE", status, createdAt: at((finished ?? 0) + 5), finishedAt: finished === null ? null : at(finished) } });
    // QA: r1 then r2 succeeded; r3 failed after them; r4 is still running.
    await deployment(r1!.id, qa!.id, "SUCCEEDED", 50);
    await deployment(r2!.id, qa!.id, "SUCCEEDED", 40);
    await deployment(r3!.id, qa!.id, "FAILED", 30);
    await deployment(r4!.id, qa!.id, "RUNNING", null);
    // Production: r2 went live, then ops reverted to r1.
    await deployment(r1!.id, production!.id, "SUCCEEDED", 60);
    await deployment(r2!.id, production!.id, "SUCCEEDED", 20);
    await deployment(r1!.id, production!.id, "SUCCEEDED", 10, "REVERT");
    // QA's two servers: one runs r2, one still r1 (drifted).
    await db.target.createMany({
      data: [
        { environmentId: qa!.id, name: "qa-1", status: "ACTIVE", liveReleaseId: r2!.id },
        { environmentId: qa!.id, name: "qa-2", status: "ACTIVE", liveReleaseId: r1!.id },
      ],
    });

    const app = await getApplication(ops, tenant.application.id);
    expect(app.environments.map((e) => [e.name, e.expectedReleaseId])).toEqual([
      [qa!.name, r2!.id],
      [acceptance!.name, null],
      [production!.name, r1!.id],
    ]);
    const qaView = app.environments[0]!;
    expect(qaView.targets.map((t) => [t.name, hasDrift(t.liveReleaseId, qaView.expectedReleaseId)])).toEqual([
      ["qa-1", false],
      ["qa-2", true],
    ]);
    expect(qaView._count.targets).toBe(2);
  });
});
