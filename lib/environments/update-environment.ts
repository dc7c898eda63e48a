import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { AppError, conflict, isUniqueViolation, notFound } from "../errors";
import { slugify } from "../util/slugify";
import { assertDistinctSlug } from "./assert-distinct-slug";
import { ZEnvironmentName } from "./create-environment";

const ZRole = z.enum(["DEVELOPER", "CUSTOMER", "APPROVER", "OPS", "AUDITOR"]);
const ZCheckbox = z.preprocess((v) => v === "on" || v === "true" || v === true, z.boolean());
const ZRoleList = z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(ZRole));

export const ZUpdateEnvironmentRequestSchema = z.object({
  environmentId: z.uuid(),
  name: ZEnvironmentName,
  url: z.preprocess((v) => (v === "" ? null : v), z.url("Enter a full URL such as https://acc.example.com").nullable()),
  isProduction: ZCheckbox,
  requiresPreviousSuccess: ZCheckbox,
  requiresAcceptance: ZCheckbox,
  requiredApprovals: z.coerce.number().int("Enter a whole number.").min(0).max(10, "At most 10 approvals."),
  approverRoles: ZRoleList,
  deployerRoles: ZRoleList.refine((r) => r.length > 0, "Choose at least one role that may deploy."),
  strategy: z.enum(["ROLLING", "ALL_AT_ONCE"]),
  batchSize: z.coerce.number().int("Enter a whole number.").min(1, "At least 1 node per batch.").max(100),
});
export type TUpdateEnvironmentRequest = z.infer<typeof ZUpdateEnvironmentRequestSchema>;

/** Renames an environment and sets its policy; the audit event records before and after. */
export async function updateEnvironment(actor: UserActor, input: TUpdateEnvironmentRequest) {
  const { environmentId, ...fields } = input;
  const existing = await db.environment.findUnique({ where: { id: environmentId }, include: { application: true } });
  if (!existing || !can(actor, "application.view", existing.applicationId)) throw notFound("Environment");
  assertCan(actor, "environment.manage", existing.applicationId);
  if (fields.requiredApprovals > 0 && fields.approverRoles.length === 0) {
    throw new AppError("INVALID_INPUT", "Choose which roles may approve.", {
      fieldErrors: { approverRoles: ["Choose at least one role when approvals are required."] },
    });
  }
  const pick = (e: Omit<typeof existing, "application">) => ({
    name: e.name,
    url: e.url,
    isProduction: e.isProduction,
    requiresPreviousSuccess: e.requiresPreviousSuccess,
    requiresAcceptance: e.requiresAcceptance,
    requiredApprovals: e.requiredApprovals,
    approverRoles: e.approverRoles,
    deployerRoles: e.deployerRoles,
    strategy: e.strategy,
    batchSize: e.batchSize,
  });
  try {
    return await db.$transaction(async (tx) => {
      await assertDistinctSlug(tx, existing.applicationId, fields.name, slugify(fields.name), environmentId);
      const updated = await tx.environment.update({
        where: { id: environmentId },
        data: { ...fields, slug: slugify(fields.name) },
      });
      await recordAuditEvent(tx, actor, {
        type: "ENVIRONMENT_UPDATED",
        object: { type: "Environment", id: updated.id },
        scope: { customerId: existing.application.customerId, applicationId: existing.applicationId, environmentId },
        summary: `updated environment ${updated.name} of ${existing.application.name}`,
        before: pick(existing),
        after: pick(updated),
      });
      return updated;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`This application already has an environment named "${fields.name}".`);
    throw e;
  }
}
