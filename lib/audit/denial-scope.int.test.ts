// A refusal on an application's objects is evidence for that application's auditor: the domain's FORBIDDEN carries
// what it was about (application, environment, release), the one denial writer records it there, and the release's
// evidence page lists refused attempts on it.
import { describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createMember, createReleaseRow, createTenant, lastAuditSeq } from "../../test/factories";
import { releaseFlow, uploadRelease } from "../../test/release-flow";
import type { ApiTokenActor } from "../auth/actor";
import { approveRelease } from "../approvals/approve-release";
import { recordVerdict } from "../approvals/record-verdict";
import { db } from "../db/client";
import { requestDeployment } from "../deployments/request-deployment";
import { createWebhook } from "../notifications/create-webhook";
import { getReleaseEvidence } from "./get-release-evidence";
import { recordDenial } from "./record-denial";
import { searchAuditEvents } from "./search-audit-events";

/** The PERMISSION_DENIED events written since `seq`. */
const denialsSince = (seq: bigint) => db.auditEvent.findMany({ where: { seq: { gt: seq }, type: "PERMISSION_DENIED" }, orderBy: { seq: "asc" } });

describe("a permission denial on an application's objects", () => {
  it("carries the application and release, so their auditor finds it in the record and on the release's evidence", async () => {
    const flow = await releaseFlow();
    const auditor = await createMember(flow.tenant, "AUDITOR");
    const release = await uploadRelease(flow);
    const since = await lastAuditSeq();

    // A developer tries to approve the release: the permission matrix refuses.
    const approve = await expectAppError(approveRelease(flow.dev, { releaseId: release.id, artifactSha256: release.artifactSha256 }), "FORBIDDEN");
    expect(approve.scope).toMatchObject({ applicationId: flow.tenant.application.id, releaseId: release.id });
    await recordDenial(flow.dev, "approve-release", approve);
    // The developer tries to accept it as the customer would: only customer testers give verdicts.
    const verdict = await expectAppError(
      recordVerdict(flow.dev, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 }),
      "FORBIDDEN",
    );
    expect(verdict.scope).toMatchObject({ applicationId: flow.tenant.application.id, releaseId: release.id });
    await recordDenial(flow.dev, "record-verdict", verdict);
    // The customer tester tries to deploy it to production.
    const deploy = await expectAppError(requestDeployment(flow.customer, { environmentId: flow.env.production.id, releaseId: release.id }), "FORBIDDEN");
    expect(deploy.scope).toEqual({ applicationId: flow.tenant.application.id, environmentId: flow.env.production.id, releaseId: release.id });
    await recordDenial(flow.customer, "deploy-release", deploy);

    const denials = await denialsSince(since);
    expect(denials).toHaveLength(3);
    for (const d of denials) {
      expect(d).toMatchObject({ customerId: flow.tenant.customer.id, applicationId: flow.tenant.application.id, releaseId: release.id });
    }
    expect(denials[2]).toMatchObject({ environmentId: flow.env.production.id, summary: `${flow.customer.email} was refused deploy-release` });
    // The refusal's own words are kept with it.
    expect(denials[0]!.data).toEqual({ reason: approve.message });

    // The auditor of the application finds them in the record, filtered to the application...
    const found = await searchAuditEvents(auditor, { applicationId: flow.tenant.application.id, type: "PERMISSION_DENIED" });
    expect(found.events.map((e) => e.seq)).toEqual(denials.map((d) => d.seq).reverse());
    // ...and on the release's evidence, as refused attempts.
    const evidence = await getReleaseEvidence(auditor, release.id);
    expect(evidence.refusals.map((r) => [r.actorLabel, r.summary, r.reason])).toEqual([
      [flow.dev.email, `${flow.dev.email} was refused approve-release`, approve.message],
      [flow.dev.email, `${flow.dev.email} was refused record-verdict`, verdict.message],
      [flow.customer.email, `${flow.customer.email} was refused deploy-release`, deploy.message],
    ]);
    expect(evidence.refusals[2]).toMatchObject({ environment: flow.env.production.name });
  });

  it("a deployment the gates refuse (not accepted, not approved) is on the release's evidence too, with the gates' words", async () => {
    // Ops may deploy to production; forging the disabled option of the form, or calling the API, gets past no gate.
    const flow = await releaseFlow();
    const auditor = await createMember(flow.tenant, "AUDITOR");
    const release = await uploadRelease(flow);
    const since = await lastAuditSeq();
    const refused = await expectAppError(requestDeployment(flow.ops, { environmentId: flow.env.production.id, releaseId: release.id }), "PRECONDITION_FAILED");
    const [event] = await db.auditEvent.findMany({ where: { seq: { gt: since }, releaseId: release.id }, orderBy: { seq: "asc" } });
    expect(event).toMatchObject({
      type: "DEPLOYMENT_REFUSED",
      actorId: flow.ops.id,
      applicationId: flow.tenant.application.id,
      environmentId: flow.env.production.id,
      summary: `${flow.ops.email} was refused deploying ${release.version} to ${flow.env.production.name}`,
      data: { reason: refused.message },
    });
    const evidence = await getReleaseEvidence(auditor, release.id);
    expect(evidence.refusals.map((r) => [r.actorLabel, r.reason])).toEqual([[flow.ops.email, refused.message]]);
    // Nothing else was written: no deployment, no request event.
    expect(await db.deployment.count({ where: { releaseId: release.id, environmentId: flow.env.production.id } })).toBe(0);
  });

  it("by a pipeline's API token carries the release and environment too", async () => {
    const flow = await releaseFlow();
    const release = await uploadRelease(flow);
    const token: ApiTokenActor = {
      type: "API_TOKEN",
      tokenId: "00000000-0000-4000-8000-00000000a0a0",
      createdById: flow.dev.id,
      applicationId: flow.tenant.application.id,
      label: "API token ci (test)",
      isPlatformAdmin: false,
      roles: new Map([[flow.tenant.application.id, new Set(["DEVELOPER" as const])]]),
      ctx: flow.dev.ctx,
    };
    const since = await lastAuditSeq();
    // Only ops deploy to production: the environment's policy refuses the pipeline.
    const refused = await expectAppError(requestDeployment(token, { environmentId: flow.env.production.id, releaseId: release.id }), "FORBIDDEN");
    await recordDenial(token, "POST /api/v1/.../deployments", refused);
    const [denial] = await denialsSince(since);
    expect(denial).toMatchObject({
      actorLabel: "API token ci (test)",
      customerId: flow.tenant.customer.id,
      applicationId: flow.tenant.application.id,
      environmentId: flow.env.production.id,
      releaseId: release.id,
    });
  });

  it("on an application without a release names the application, and one with nothing to point at names nothing", async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const auditor = await createMember(tenant, "AUDITOR");
    const customer = await createMember(tenant, "CUSTOMER", { customerSide: true });
    const since = await lastAuditSeq();
    const refused = await expectAppError(createWebhook(customer, { applicationId: tenant.application.id, url: "https://hooks.example.test/x", events: ["release.accepted"] }), "FORBIDDEN");
    await recordDenial(customer, "create-webhook", refused);
    // A refusal about no application (an admin page): recorded, in no application's record.
    await recordDenial(customer, "to open the users page");
    const [onApp, platform] = await denialsSince(since);
    expect(onApp).toMatchObject({ applicationId: tenant.application.id, customerId: tenant.customer.id, releaseId: null });
    expect(platform).toMatchObject({ applicationId: null, customerId: null, releaseId: null });
    // Only this application's auditor sees the first; another tenant's release is untouched by it.
    expect((await searchAuditEvents(auditor, { type: "PERMISSION_DENIED" })).events.map((e) => e.seq)).toContain(onApp!.seq);
    const theirs = await createReleaseRow({ applicationId: other.application.id, uploadedById: other.admin.id });
    expect((await getReleaseEvidence(await createMember(other, "AUDITOR"), theirs.id)).refusals).toEqual([]);
  });
});
