// Text people write (release notes, reasons, comments, names) and text a URL carries (search boxes) goes into
// PostgreSQL, whose text and jsonb types cannot hold the NUL character (U+0000). Such text must be refused with a
// 400 that says what to change, before it reaches the database and fails there as a 500 (lib/validation.ts ZText).
import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { expectAppError } from "../test/assertions";
import { type Flow, releaseFlow, uploadRelease } from "../test/release-flow";
import { ZCreateApplicationRequestSchema } from "./applications/create-application";
import { approveRelease } from "./approvals/approve-release";
import { createFreeze } from "./approvals/create-freeze";
import { recordVerdict } from "./approvals/record-verdict";
import { ZCreateCustomerRequestSchema } from "./customers/create-customer";
import { requestDeployment } from "./deployments/request-deployment";
import { requestRevert } from "./deployments/request-revert";
import { ZCreateEnvironmentRequestSchema } from "./environments/create-environment";
import { ZUpdateEnvironmentRequestSchema } from "./environments/update-environment";
import { ZUpdateRolloutSettingsRequestSchema } from "./environments/update-rollout-settings";
import { ZCreateReleaseRequestSchema } from "./releases/create-release";
import { ZReleaseUploadMetadataSchema } from "./releases/handle-release-upload";
import { listReleases } from "./releases/list-releases";
import { ZApiDeployRequestSchema } from "./releases/resolve-deploy-request";
import { ZCreateBalancerRequestSchema } from "./balancers/create-balancer";
import { ZCreateSiteRequestSchema } from "./sites/create-site";
import { ZRenameSiteRequestSchema } from "./sites/rename-site";
import { ZCreateUserRequestSchema } from "./users/create-user";
import { parseInput } from "./validation";

const NUL = /Remove the NUL character \(\\u0000\), which text cannot hold\./;
const text = "looks fine\u0000but is not";

let flow: Flow;
let release: Awaited<ReturnType<typeof uploadRelease>>;

beforeAll(async () => {
  flow = await releaseFlow();
  release = await uploadRelease(flow);
});

describe("text with a NUL character", () => {
  it("is refused as a reason, a comment or a search, with a message saying what to remove", async () => {
    const { production, qa } = flow.env;
    const sha = release.artifactSha256;
    const refusals: [string, () => Promise<unknown>][] = [
      ["rejection reason", () => recordVerdict(flow.customer, { releaseId: release.id, verdict: "REJECTED", reason: text, artifactSha256: sha })],
      ["approval comment", () => approveRelease(flow.approver, { releaseId: release.id, artifactSha256: sha, comment: text })],
      ["freeze reason", () => createFreeze(flow.ops, { environmentId: production.id, endsAt: new Date(Date.now() + 3_600_000), reason: text })],
      ["revert reason", () => requestRevert(flow.ops, { environmentId: qa.id, reason: text })],
      ["deployment reason", () => requestDeployment(flow.dev, { environmentId: qa.id, releaseId: release.id, reason: text })],
      ["freeze override reason", () => requestDeployment(flow.ops, { environmentId: qa.id, releaseId: release.id, freezeOverrideReason: text })],
      ["release search", () => listReleases(flow.dev, flow.tenant.application.id, { q: text })],
    ];
    for (const [what, refusal] of refusals) {
      const e = await expectAppError(refusal(), "INVALID_INPUT").catch((err: unknown) => {
        throw new Error(`${what}: ${String(err)}`, { cause: err });
      });
      expect(e.message, what).toMatch(NUL);
    }
  });

  it("is refused in every form field and API field that stores or looks up free text", () => {
    const fields: [z.ZodObject, string[]][] = [
      [ZCreateReleaseRequestSchema, ["notes", "migrationInstructions"]],
      [ZReleaseUploadMetadataSchema, ["fileName"]],
      [ZApiDeployRequestSchema, ["environment", "release", "reason"]],
      [ZCreateCustomerRequestSchema, ["name"]],
      [ZCreateApplicationRequestSchema, ["name", "description"]],
      [ZCreateUserRequestSchema, ["name"]],
      [ZCreateEnvironmentRequestSchema, ["name"]],
      [ZUpdateEnvironmentRequestSchema, ["name"]],
      [ZUpdateRolloutSettingsRequestSchema, ["healthCheckUrl", "stopCommand", "startCommand"]],
      [ZCreateSiteRequestSchema, ["name"]],
      [ZRenameSiteRequestSchema, ["name"]],
    ];
    for (const [schema, names] of fields) {
      for (const name of names) {
        const field = schema.shape[name] as z.ZodType;
        expect(() => parseInput(field, name === "healthCheckUrl" ? `http://127.0.0.1:8080/${text}` : text), name).toThrow(NUL);
      }
    }
    const hook = { environmentId: flow.agents.qa.targetId, name: "lb", kind: "HOOK", drainCommand: `drain ${text}`, undrainCommand: "undrain" };
    expect(() => parseInput(ZCreateBalancerRequestSchema, hook)).toThrow(NUL);
  });
});
