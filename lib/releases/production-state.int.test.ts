// What a release's status says about production after every path, against real PostgreSQL with real rollouts (the
// agent played through the domain functions the agent API calls): promoted, replaced by a newer release, reverted,
// deployed again after a revert; the release page, the review page, the evidence page and the list's status filter
// all tell the same story, and it is the story the deployment records tell.
import { beforeAll, describe, expect, it } from "vitest";
import { createMember, createReleaseRow } from "../../test/factories";
import { deploy, driveToEnd, type Flow, releaseFlow } from "../../test/release-flow";
import { getReleaseDecisions } from "../approvals/get-release-decisions";
import { getReleaseEvidence } from "../audit/get-release-evidence";
import { db } from "../db/client";
import { requestRevert } from "../deployments/request-revert";
import { getRelease } from "./get-release";
import { listReleasePage } from "./list-releases";

let flow: Flow;
let auditor: Awaited<ReturnType<typeof createMember>>;

beforeAll(async () => {
  flow = await releaseFlow();
  // Ops alone decide here: this file is about what production runs, not about the gates before it.
  await db.environment.update({ where: { id: flow.env.production.id }, data: { requiresPreviousSuccess: false, requiresAcceptance: false, requiredApprovals: 0 } });
  auditor = await createMember(flow.tenant, "AUDITOR");
});

const app = () => flow.tenant.application.id;
const upload = (version: string) => createReleaseRow({ applicationId: app(), uploadedById: flow.dev.id, version });
const statusOf = async (id: string) => (await db.release.findUniqueOrThrow({ where: { id } })).status;
const view = (releaseId: string) => getRelease(flow.customer, { applicationId: app(), releaseId });
const filtered = async (status: string) => (await listReleasePage(flow.ops, app(), { status })).releases.map((r) => r.version);

async function revert(reason: string) {
  const { deployment } = await requestRevert(flow.ops, { environmentId: flow.env.production.id, reason });
  return driveToEnd(flow, "production", deployment.id);
}

describe("a release's production state", () => {
  it("follows what production runs: promoted, replaced, reverted (with when, by whom and why), and live again when deployed again", async () => {
    const v1 = await upload("1.0.0");
    const v2 = await upload("1.1.0");

    await deploy(flow, flow.ops, "production", v1.id);
    expect(await statusOf(v1.id)).toBe("RELEASED");

    // A newer release replaces it the normal way: it was live, and is superseded by 1.1.0, not reverted.
    const promoted = await deploy(flow, flow.ops, "production", v2.id);
    expect(await statusOf(v2.id)).toBe("RELEASED");
    expect(await statusOf(v1.id)).toBe("SUPERSEDED");
    expect((await view(v1.id)).production).toMatchObject({ state: "superseded", environment: { name: "Production" }, to: { version: "1.1.0" }, by: flow.ops.name, deploymentId: promoted.id });

    // Ops revert 1.1.0: production runs 1.0.0 again, and 1.1.0 no longer claims to be released.
    const reverted = await revert("Checkout double-charges cards");
    expect(reverted.status).toBe("SUCCEEDED");
    expect(await statusOf(v2.id)).toBe("REVERTED");
    expect(await statusOf(v1.id)).toBe("RELEASED");
    // The record of the revert's success says what it did to the releases' statuses, in the same transaction.
    const succeeded = await db.auditEvent.findFirstOrThrow({ where: { type: "DEPLOYMENT_SUCCEEDED", objectId: reverted.id } });
    expect(succeeded.after).toMatchObject({ status: "SUCCEEDED", releaseStatuses: { [v1.id]: "RELEASED", [v2.id]: "REVERTED" } });
    expect((await view(v1.id)).production).toMatchObject({ state: "live", environments: [{ name: "Production" }] });
    const page = await view(v2.id);
    expect(page.release.status).toBe("REVERTED");
    expect(page.liveIn.map((e) => e.name)).not.toContain("Production");
    expect(page.production).toEqual({
      state: "reverted",
      environment: { id: flow.env.production.id, name: "Production" },
      at: reverted.finishedAt,
      by: flow.ops.name,
      reason: "Checkout double-charges cards",
      to: { id: v1.id, version: "1.0.0" },
      deploymentId: reverted.id,
    });

    // The review page and the evidence page say the same.
    const decisions = await getReleaseDecisions(flow.customer, v2.id);
    expect(decisions.release.status).toBe("REVERTED");
    expect(decisions.production?.state).toMatchObject({ state: "reverted", reason: "Checkout double-charges cards", to: { version: "1.0.0" } });
    const evidence = await getReleaseEvidence(auditor, v2.id);
    expect(evidence.production).toMatchObject({ state: "reverted", by: flow.ops.name, reason: "Checkout double-charges cards" });

    // The list's status filter finds each by what it is now.
    expect(await filtered("REVERTED")).toEqual(["1.1.0"]);
    expect(await filtered("RELEASED")).toEqual(["1.0.0"]);
    expect(await filtered("SUPERSEDED")).toEqual([]);

    // Deployed again later (the cause was elsewhere): live again, and 1.0.0 is replaced once more.
    await deploy(flow, flow.ops, "production", v2.id);
    expect(await statusOf(v2.id)).toBe("RELEASED");
    expect(await statusOf(v1.id)).toBe("SUPERSEDED");
    expect((await view(v2.id)).production).toMatchObject({ state: "live" });
    expect(await filtered("REVERTED")).toEqual([]);
  });

  it("a release that never reached production says so, and a deployment elsewhere does not change its status", async () => {
    const v = await upload("2.0.0");
    await deploy(flow, flow.dev, "qa", v.id);
    expect(await statusOf(v.id)).toBe("CANDIDATE");
    expect((await view(v.id)).production).toEqual({ state: "never" });
  });
});
