// Sets up an application with a fleet for the demo and the real-parts tests, through the domain functions, as an
// administrator and ops would in the UI (every step is audited): a customer, an application with QA, Acceptance
// and Production, one person per role with a known password, the environments' hooks for the sample app
// (demo/sample-app), servers with one-time enrollment tokens, Production's servers behind HAProxy, and an API token
// for a build pipeline. Runs in a process started with `--conditions=react-server` (domain modules are server-only).
import { randomUUID } from "node:crypto";
import { createApiToken } from "../../lib/api-tokens/create-api-token";
import { createApplication } from "../../lib/applications/create-application";
import { approveRelease } from "../../lib/approvals/approve-release";
import { recordVerdict } from "../../lib/approvals/record-verdict";
import type { UserActor } from "../../lib/auth/actor";
import { toUserActor } from "../../lib/auth/session";
import { createCustomer } from "../../lib/customers/create-customer";
import { db } from "../../lib/db/client";
import type { Role } from "../../lib/db/generated/enums";
import { updateEnvironment } from "../../lib/environments/update-environment";
import { updateRolloutSettings } from "../../lib/environments/update-rollout-settings";
import { grantRole } from "../../lib/memberships/grant-role";
import { addTarget } from "../../lib/targets/add-target";
import { addBalancerMember } from "../../lib/balancers/add-balancer-member";
import { createBalancer } from "../../lib/balancers/create-balancer";
import { bootstrapFirstAdmin } from "../../lib/users/bootstrap-first-admin";
import { changeOwnPassword } from "../../lib/users/change-own-password";
import { createUser } from "../../lib/users/create-user";

export interface SeedFleetOptions {
  customerName: string;
  applicationName: string;
  /** Password every seeded person gets (the demo prints it). */
  password: string;
  /** Sample-app ports per node. */
  ports: { qa: number; acceptance: number; production: number[] };
  /** Production's HAProxy, if one runs. */
  haproxy: { url: string; adminAddress: string; backend: string } | null;
  /** More HAProxy instances in front of the same production nodes (a redundant pair), each a balancer of its own. */
  moreBalancers?: { name: string; adminAddress: string; backend: string }[];
  /**
   * Keep Production's gates (previous stage, customer acceptance, one approval). The demo keeps them, as a real
   * application has them; the rollout tests and benchmarks drop them to deploy any build straight to Production.
   */
  gates: boolean;
  /** The email domain, unique per run in tests. */
  emailDomain?: string;
  /**
   * Production's post-deploy analysis: seconds each node is watched once it serves again (default 0, off). A new
   * Production watches each node for a minute; the demo, the fault tests and the benchmarks keep their rollouts as
   * fast as they were unless they ask for a bake.
   */
  bakeSeconds?: number;
}

export interface SeededNode {
  name: string;
  environment: "qa" | "acceptance" | "production";
  token: string;
  port: number;
  balanced: boolean;
}

export interface SeededFleet {
  admin: { email: string; password: string };
  people: { role: Role; name: string; email: string; password: string }[];
  customerId: string;
  applicationId: string;
  environments: Record<"qa" | "acceptance" | "production", string>;
  nodes: SeededNode[];
  apiToken: string;
}

const ctx = () => ({ requestId: randomUUID().slice(0, 16), ip: null, userAgent: "releasegate seed" });

async function actorOf(userId: string): Promise<UserActor> {
  const user = await db.user.findUniqueOrThrow({ where: { id: userId }, include: { memberships: true } });
  return toUserActor(user, null, ctx());
}

/** The administrator: the first-run one on an empty database (given the known password), else a new one. */
async function administrator(password: string, domain: string): Promise<{ actor: UserActor; email: string }> {
  const first = await bootstrapFirstAdmin();
  if (first) {
    const user = await db.user.findUniqueOrThrow({ where: { email: first.email } });
    await changeOwnPassword(await actorOf(user.id), { currentPassword: first.password, newPassword: password, confirmPassword: password });
    return { actor: await actorOf(user.id), email: first.email };
  }
  const existing = await db.user.findFirstOrThrow({ where: { isPlatformAdmin: true, status: "ACTIVE" }, orderBy: { createdAt: "asc" } });
  const created = await createUser(await actorOf(existing.id), { name: "Seed administrator", email: `admin@${domain}`, customerId: null, isPlatformAdmin: true });
  await changeOwnPassword(await actorOf(created.user.id), { currentPassword: created.oneTimePassword, newPassword: password, confirmPassword: password });
  return { actor: await actorOf(created.user.id), email: created.user.email };
}

const PEOPLE: { role: Role; name: string; local: string; customerSide: boolean }[] = [
  { role: "DEVELOPER", name: "Dana Developer", local: "dev", customerSide: false },
  { role: "CUSTOMER", name: "Cora Customer", local: "customer", customerSide: true },
  { role: "APPROVER", name: "Abe Approver", local: "approver", customerSide: false },
  { role: "OPS", name: "Otto Ops", local: "ops", customerSide: false },
  { role: "AUDITOR", name: "Aude Auditor", local: "auditor", customerSide: false },
];

export async function seedFleet(o: SeedFleetOptions): Promise<SeededFleet> {
  const domain = o.emailDomain ?? "demo.releasegate.local";
  const admin = await administrator(o.password, domain);
  const customer = await createCustomer(admin.actor, { name: o.customerName });
  const app = await createApplication(admin.actor, { customerId: customer.id, name: o.applicationName, description: "The sample app from demo/sample-app" });

  const people: SeededFleet["people"] = [];
  let ops: UserActor | null = null;
  for (const p of PEOPLE) {
    const email = `${p.local}@${domain}`;
    const { user, oneTimePassword } = await createUser(admin.actor, { name: p.name, email, customerId: p.customerSide ? customer.id : null, isPlatformAdmin: false });
    await grantRole(admin.actor, { applicationId: app.id, userId: user.id, role: p.role });
    await changeOwnPassword(await actorOf(user.id), { currentPassword: oneTimePassword, newPassword: o.password, confirmPassword: o.password });
    people.push({ role: p.role, name: p.name, email, password: o.password });
    if (p.role === "OPS") ops = await actorOf(user.id);
  }
  if (!ops) throw new Error("no ops person seeded");

  const envs = await db.environment.findMany({ where: { applicationId: app.id }, orderBy: { position: "asc" } });
  const bySlug = (slug: string) => envs.find((e) => e.slug === slug)!;
  const environments = { qa: bySlug("qa").id, acceptance: bySlug("acceptance").id, production: bySlug("production").id };
  const urls = {
    qa: `http://127.0.0.1:${o.ports.qa}/`,
    acceptance: `http://127.0.0.1:${o.ports.acceptance}/`,
    production: o.haproxy ? `${o.haproxy.url}/` : `http://127.0.0.1:${o.ports.production[0]}/`,
  };
  for (const slug of ["qa", "acceptance", "production"] as const) {
    const e = bySlug(slug);
    const relaxed = slug === "production" && !o.gates ? { requiresPreviousSuccess: false, requiresAcceptance: false, requiredApprovals: 0 } : {};
    await updateEnvironment(admin.actor, {
      environmentId: e.id,
      name: e.name,
      url: urls[slug],
      isProduction: e.isProduction,
      requiresPreviousSuccess: e.requiresPreviousSuccess,
      requiresAcceptance: e.requiresAcceptance,
      requiredApprovals: e.requiredApprovals,
      approverRoles: e.approverRoles,
      deployerRoles: e.deployerRoles,
      strategy: e.strategy,
      batchSize: e.batchSize,
      ...relaxed,
    });
    // The sample app's hooks (demo/sample-app/README.md); ${PORT} is each node's own, set when its agent enrolled.
    await updateRolloutSettings(ops, {
      environmentId: e.id,
      strategy: e.strategy,
      batchSize: e.batchSize,
      autoRollback: true,
      healthCheckUrl: "http://127.0.0.1:${PORT}/health",
      healthCheckExpectsVersion: true,
      stopCommand: "if [ -f current/ctl.sh ]; then sh current/ctl.sh stop; fi",
      startCommand: "sh current/ctl.sh start",
      backupCommand: "",
      migrateCommand: "",
      validateCommand: "",
      maintenanceOnCommand: "",
      maintenanceOffCommand: "",
      hookTimeoutSeconds: 10,
      keepReleases: 5,
      persistentPaths: "",
      bakeSeconds: slug === "production" ? (o.bakeSeconds ?? 0) : 0,
    });
  }

  // Production's balancers: the one visitors' requests go through, and any others in front of the same nodes.
  const balancers = o.haproxy ? [{ name: "haproxy", ...o.haproxy }, ...(o.moreBalancers ?? [])] : [];
  const balancerIds: string[] = [];
  for (const b of balancers) {
    balancerIds.push((await createBalancer(ops, { environmentId: environments.production, name: b.name, kind: "HAPROXY", address: b.adminAddress })).id);
  }

  const nodes: SeededNode[] = [];
  const add = async (environment: SeededNode["environment"], name: string, port: number, balanced: boolean) => {
    const { target, enrollmentToken } = await addTarget(ops, { environmentId: environments[environment], name });
    if (balanced) {
      for (const [i, b] of balancers.entries()) await addBalancerMember(ops, { balancerId: balancerIds[i]!, targetId: target.id, backend: b.backend, server: name });
    }
    nodes.push({ name, environment, token: enrollmentToken, port, balanced: balanced && o.haproxy !== null });
  };
  await add("qa", "qa-1", o.ports.qa, false);
  await add("acceptance", "acc-1", o.ports.acceptance, false);
  for (const [i, port] of o.ports.production.entries()) await add("production", `web-${i + 1}`, port, true);

  // A token carries only roles its creator holds on the application (the administrator flag gives it none), so the
  // pipeline's token belongs to an account of its own holding exactly what the pipeline does: upload and deploy.
  // Nobody signs in as it (its one-time password is never shown).
  const pipeline = await createUser(admin.actor, { name: "CI pipeline", email: `ci@${domain}`, customerId: null, isPlatformAdmin: false });
  for (const role of ["DEVELOPER", "OPS"] as const) await grantRole(admin.actor, { applicationId: app.id, userId: pipeline.user.id, role });
  const { plaintext } = await createApiToken(await actorOf(pipeline.user.id), { applicationId: app.id, name: "ci-pipeline", roles: ["DEVELOPER", "OPS"], expiresInDays: undefined });
  return { admin: { email: admin.email, password: o.password }, people, customerId: customer.id, applicationId: app.id, environments, nodes, apiToken: plaintext };
}

/**
 * The customer tester accepts and the approver approves a release that is live in acceptance, through the same
 * domain functions (and audit events) as the Accept and Approve buttons: the demo's history of earlier releases.
 */
export async function signOffRelease(o: { applicationId: string; version: string; emailDomain?: string; note: string }): Promise<void> {
  const domain = o.emailDomain ?? "demo.releasegate.local";
  const release = await db.release.findFirstOrThrow({ where: { applicationId: o.applicationId, version: o.version } });
  const person = async (local: string) => actorOf((await db.user.findUniqueOrThrow({ where: { email: `${local}@${domain}` } })).id);
  await recordVerdict(await person("customer"), { releaseId: release.id, verdict: "ACCEPTED", reason: o.note, artifactSha256: release.artifactSha256 });
  await approveRelease(await person("approver"), { releaseId: release.id, artifactSha256: release.artifactSha256, comment: o.note });
}
