// Builders for integration tests. Every call creates uniquely named rows, so test files run in parallel against
// one database without resetting it. Structure is created through the domain functions, as the UI would.
import { randomBytes, randomUUID } from "node:crypto";
import type { RequestContext, UserActor } from "../lib/auth/actor";
import { hashPassword } from "../lib/auth/password";
import { toUserActor } from "../lib/auth/session";
import { createApplication } from "../lib/applications/create-application";
import { createCustomer } from "../lib/customers/create-customer";
import { db } from "../lib/db/client";
import type { DeploymentStatus, ReleaseStatus, Role } from "../lib/db/generated/enums";
import type { TUpdateEnvironmentRequest } from "../lib/environments/update-environment";
import { grantRole } from "../lib/memberships/grant-role";

export const uniq = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A fresh address per request context, so sign-in throttling (which counts per address) never couples tests. */
export const testIp = () => `10.${randomBytes(3).join(".")}`;

export const testContext = (): RequestContext => ({ requestId: randomUUID().slice(0, 16), ip: testIp(), userAgent: "vitest" });

/** The current actor of a user, read from the database exactly as a request would. */
export async function actorFor(userId: string): Promise<UserActor> {
  const user = await db.user.findUniqueOrThrow({ where: { id: userId }, include: { memberships: true } });
  return toUserActor(user, null, testContext());
}

export async function createUserRow(options: { admin?: boolean; customerId?: string | null; password?: string; name?: string } = {}) {
  const email = `${uniq("user")}@example.test`;
  return db.user.create({
    data: {
      email,
      name: options.name ?? email.split("@")[0]!,
      passwordHash: await hashPassword(options.password ?? "correct horse battery staple"),
      isPlatformAdmin: options.admin ?? false,
      customerId: options.customerId ?? null,
    },
  });
}

export async function createAdmin(): Promise<UserActor> {
  return actorFor((await createUserRow({ admin: true })).id);
}

/** A customer with one application (and its default environments), created by a fresh admin. */
export async function createTenant() {
  const admin = await createAdmin();
  const customer = await createCustomer(admin, { name: uniq("Customer") });
  const application = await createApplication(admin, { customerId: customer.id, name: uniq("App"), description: "" });
  return { admin, customer, application };
}

/** A user with `role` on the application; customer-side users belong to the application's customer. */
export async function createMember(tenant: Awaited<ReturnType<typeof createTenant>>, role: Role, options: { customerSide?: boolean } = {}) {
  const user = await createUserRow({ customerId: options.customerSide ? tenant.customer.id : null });
  await grantRole(tenant.admin, { applicationId: tenant.application.id, userId: user.id, role });
  return actorFor(user.id);
}

/** Audit events written for an object since a point in time (sequence numbers are monotonic). */
export async function auditEventsSince(seq: bigint, where: { objectId?: string } = {}) {
  return db.auditEvent.findMany({ where: { seq: { gt: seq }, ...where }, orderBy: { seq: "asc" } });
}

export async function lastAuditSeq(): Promise<bigint> {
  const last = await db.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true } });
  return last?.seq ?? 0n;
}

/** Audit events written by one actor since a point in time: scoped, because other files write in parallel. */
export async function auditEventsBy(actorId: string, sinceSeq: bigint) {
  return db.auditEvent.findMany({ where: { seq: { gt: sinceSeq }, actorId }, orderBy: { seq: "asc" } });
}

/** A release row as the upload flow would leave it; statuses and history are set up by the test. */
export async function createReleaseRow(options: {
  applicationId: string;
  uploadedById: string;
  status?: ReleaseStatus;
  version?: string;
  artifactSha256?: string;
}) {
  const version = options.version ?? uniq("1.0.0");
  return db.release.create({
    data: {
      applicationId: options.applicationId,
      uploadedById: options.uploadedById,
      version,
      status: options.status ?? "CANDIDATE",
      artifactSha256: options.artifactSha256 ?? randomBytes(32).toString("hex"),
      artifactSize: 1024n,
      artifactFileName: `app-${version}.tar.gz`,
      artifactStorageKey: `artifacts/${randomUUID()}`,
    },
  });
}

/** A deployment row of a release to an environment (no steps; the rollout engine is not involved). */
export async function createDeploymentRow(options: {
  releaseId: string;
  environmentId: string;
  status?: DeploymentStatus;
  requestedById?: string | null;
}) {
  return db.deployment.create({
    data: {
      releaseId: options.releaseId,
      environmentId: options.environmentId,
      strategy: "ALL_AT_ONCE",
      status: options.status ?? "SUCCEEDED",
      requestedById: options.requestedById ?? null,
    },
  });
}

/** The environments of an application in lifecycle order. */
export async function environmentsOf(applicationId: string) {
  return db.environment.findMany({ where: { applicationId }, orderBy: { position: "asc" } });
}

/** An update request that keeps every field of `env` except `changes` (the form always sends them all). */
export function environmentUpdate(
  env: Awaited<ReturnType<typeof environmentsOf>>[number],
  changes: Partial<TUpdateEnvironmentRequest>,
): TUpdateEnvironmentRequest {
  return {
    environmentId: env.id,
    name: env.name,
    url: env.url,
    isProduction: env.isProduction,
    requiresPreviousSuccess: env.requiresPreviousSuccess,
    requiresAcceptance: env.requiresAcceptance,
    requiredApprovals: env.requiredApprovals,
    approverRoles: env.approverRoles,
    deployerRoles: env.deployerRoles,
    strategy: env.strategy,
    batchSize: env.batchSize,
    ...changes,
  };
}
