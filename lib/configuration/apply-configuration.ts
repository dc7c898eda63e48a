import "server-only";
import { z } from "zod";
import { ENROLLMENT_TOKEN_TTL_MS, hashCredential, newEnrollmentToken } from "../agents/credentials";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { balancerColumns } from "../balancers/balancer-input";
import { assertNoRolloutRunning } from "../balancers/assert-no-rollout";
import { db } from "../db/client";
import { lockEnvironment } from "../deployments/request-deployment";
import { AppError, forbidden, notFound } from "../errors";
import { lockApplicationEnvironments } from "../environments/lock-application-environments";
import { plural } from "../util/text";
import { parseInput } from "../validation";
import { ZConfigurationDocument } from "./configuration-document";
import { type ConfigurationChange, describeChange, planConfiguration } from "./plan-configuration";
import { loadConfiguration } from "./read-configuration";

export const ZApplyConfigurationQuerySchema = z.object({
  dryRun: z.enum(["true", "false", "1", "0"], "dryRun is true or false.").optional().transform((v) => v === "true" || v === "1"),
});

export interface AppliedConfiguration {
  dryRun: boolean;
  /** Each change, as a person reads it, in the file's order. */
  changes: string[];
  notes: string[];
  /** New servers' one-time enrollment tokens (valid one hour): shown here once, never again. */
  enrollmentTokens: { environment: string; server: string; token: string; expiresAt: string }[];
}

/**
 * Makes the application's configuration what the file says, as one change: every difference is checked first (the
 * file's own consistency, the actor's permission for each kind of change, no rollout running where balancers
 * change), then written in one transaction with one audit event that lists them all. With dryRun nothing is
 * written and the answer lists what would change. Policy (gates, approvals, production flag, URL) is a platform
 * administrator's; rollout settings, hooks, balancers and servers are ops'. Environments and servers the file leaves
 * out are left as they are (and said so): nothing is deleted by omission but balancers and memberships.
 */
export async function applyConfiguration(actor: UserActor | ApiTokenActor, applicationId: string, raw: unknown, options: { dryRun: boolean }): Promise<AppliedConfiguration> {
  if (!can(actor, "application.view", applicationId)) throw notFound("Application");
  const desired = parseInput(ZConfigurationDocument, raw);
  return db.$transaction(async (tx) => {
    await lockApplicationEnvironments(tx, applicationId);
    const { app, document: current } = await loadConfiguration(tx, applicationId);
    const plan = planConfiguration(current, desired);
    if (plan.errors.length) throw new AppError("INVALID_INPUT", `The file cannot be applied: ${plan.errors.join(" ")}`);
    // Every kind of change needs its own permission; one the actor lacks refuses the whole file.
    const policy = plan.changes.filter((c) => c.type === "policy");
    if (policy.length && !can(actor, "environment.manage", applicationId)) {
      throw forbidden(`Only a platform administrator changes environments' policy; the file changes ${policy.map(describeChange).join("; ")}.`, { applicationId });
    }
    if (plan.changes.some((c) => c.type !== "policy")) assertCan(actor, "target.manage", applicationId);

    const envOf = (name: string) => app.environments.find((e) => e.name === name)!;
    // What a running rollout depends on: the balancers it drains and the sites it walks.
    const touchesBalancers = new Set(plan.changes.filter((c) => /^(balancer|member|site|sites|server\.site|siteRollout)/.test(c.type)).map((c) => c.environment));
    for (const name of touchesBalancers) {
      await lockEnvironment(tx, envOf(name).id);
      await assertNoRolloutRunning(tx, envOf(name).id, name);
    }
    const result: AppliedConfiguration = { dryRun: options.dryRun, changes: plan.changes.map(describeChange), notes: plan.notes, enrollmentTokens: [] };
    if (options.dryRun || plan.changes.length === 0) return result;

    for (const env of app.environments) {
      const mine = plan.changes.filter((c) => c.environment === env.name);
      const fields = Object.fromEntries(mine.flatMap((c) => (c.type === "policy" || c.type === "rollout" || c.type === "siteRollout" ? [[c.field, c.to]] : [])));
      if (Object.keys(fields).length) await tx.environment.update({ where: { id: env.id }, data: fields });
      await applyBalancers(tx, env, mine);
      const added = await applyServers(tx, env, mine);
      result.enrollmentTokens.push(...added);
      await applyMembers(tx, env.id, mine);
      await applySites(tx, env, mine, desired.environments.find((e) => e.name === env.name)?.sites ?? []);
    }
    await recordAuditEvent(tx, actor, {
      type: "CONFIGURATION_APPLIED",
      object: { type: "Application", id: app.id },
      scope: { customerId: app.customerId, applicationId: app.id },
      summary: `applied a configuration file to ${app.name}: ${plural(plan.changes.length, "change")} (${result.changes.slice(0, 5).join("; ")}${plan.changes.length > 5 ? "; …" : ""})`,
      data: { changes: result.changes, servers: result.enrollmentTokens.map((t) => `${t.environment}/${t.server}`) },
    });
    return result;
  });
}

type Tx = Parameters<Parameters<typeof db.$transaction>[0]>[0];
type Env = { id: string; name: string };

async function applyBalancers(tx: Tx, env: Env, changes: ConfigurationChange[]) {
  for (const c of changes) {
    if (c.type === "balancer.add") await tx.balancer.create({ data: { environmentId: env.id, ...balancerColumns(c.balancer) } });
    if (c.type === "balancer.change") await tx.balancer.update({ where: { environmentId_name: { environmentId: env.id, name: c.name } }, data: balancerColumns(c.to) });
    if (c.type === "balancer.remove") await tx.balancer.delete({ where: { environmentId_name: { environmentId: env.id, name: c.name } } });
  }
}

async function applyServers(tx: Tx, env: Env, changes: ConfigurationChange[]) {
  const tokens: AppliedConfiguration["enrollmentTokens"] = [];
  for (const c of changes) {
    if (c.type !== "server.add") continue;
    const token = newEnrollmentToken();
    const expiresAt = new Date(Date.now() + ENROLLMENT_TOKEN_TTL_MS);
    await tx.target.create({ data: { environmentId: env.id, name: c.name, enrollmentTokenHash: hashCredential(token), enrollmentExpiresAt: expiresAt } });
    tokens.push({ environment: env.name, server: c.name, token, expiresAt: expiresAt.toISOString() });
  }
  return tokens;
}

async function applyMembers(tx: Tx, environmentId: string, changes: ConfigurationChange[]) {
  const ids = async (server: string, balancer: string) => ({
    target: await tx.target.findUniqueOrThrow({ where: { environmentId_name: { environmentId, name: server } }, select: { id: true } }),
    balancer: await tx.balancer.findUniqueOrThrow({ where: { environmentId_name: { environmentId, name: balancer } }, select: { id: true } }),
  });
  for (const c of changes) {
    if (c.type === "member.remove") {
      const { target, balancer } = await ids(c.server, c.balancer);
      await tx.balancerMembership.deleteMany({ where: { targetId: target.id, balancerId: balancer.id, backend: c.backend } });
    }
  }
  for (const c of changes) {
    if (c.type === "member.add") {
      const { target, balancer } = await ids(c.server, c.balancer);
      await tx.balancerMembership.create({ data: { targetId: target.id, balancerId: balancer.id, backend: c.backend, server: c.name } });
    }
  }
}

/** Sites added, servers moved between them, the order rewritten (through negative positions), emptied ones removed. */
async function applySites(tx: Tx, env: Env, changes: ConfigurationChange[], order: string[]) {
  const siteChanges = changes.filter((c) => c.type === "site.add" || c.type === "site.remove" || c.type === "sites.order" || c.type === "server.site");
  if (siteChanges.length === 0) return;
  const existing = await tx.site.findMany({ where: { environmentId: env.id } });
  // Positions are unique per environment and checked row by row: every site first goes negative (0 far below the
  // rest), new ones below them, then each takes its place in the file's order.
  await tx.site.updateMany({ where: { environmentId: env.id }, data: { position: { multiply: -1 } } });
  await tx.site.updateMany({ where: { environmentId: env.id, position: 0 }, data: { position: -1_000_000 } });
  let next = Math.max(0, ...existing.map((x) => x.position + 1)) + 1;
  for (const c of changes) if (c.type === "site.add") await tx.site.create({ data: { environmentId: env.id, name: c.name, position: -1_000_000 - next++ } });
  for (const c of changes) {
    if (c.type !== "server.site") continue;
    const site = c.to === null ? null : await tx.site.findUniqueOrThrow({ where: { environmentId_name: { environmentId: env.id, name: c.to } }, select: { id: true } });
    await tx.target.update({ where: { environmentId_name: { environmentId: env.id, name: c.server } }, data: { siteId: site?.id ?? null } });
  }
  for (const c of changes) if (c.type === "site.remove") await tx.site.delete({ where: { environmentId_name: { environmentId: env.id, name: c.name } } });
  for (const [position, name] of order.entries()) await tx.site.update({ where: { environmentId_name: { environmentId: env.id, name } }, data: { position } });
}
