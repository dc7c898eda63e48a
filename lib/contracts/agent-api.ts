// The agent API contract (app/api/agent/v1/*), shared by the control plane and the agent (agent/). Pure zod:
// no server imports, so the agent can bundle it. Changing the protocol is one edit here, type-checked on both ends.
import { z } from "zod";

export const AGENT_API_PREFIX = "/api/agent/v1";

/** Agent secrets and enrollment tokens: a recognisable prefix and 256 random bits, base64url. */
export const AGENT_SECRET_PREFIX = "rga_";
export const ENROLLMENT_TOKEN_PREFIX = "rge_";
const ZCredential = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}[A-Za-z0-9_-]{43}$`), `must be a Releasegate credential starting with ${prefix}`);

export const ZEnrollRequestSchema = z.object({
  token: ZCredential(ENROLLMENT_TOKEN_PREFIX),
  hostname: z.string().trim().min(1).max(255),
  agentVersion: z.string().trim().min(1).max(64),
});
export type TEnrollRequest = z.infer<typeof ZEnrollRequestSchema>;

export const ZEnrollResponseSchema = z.object({
  targetId: z.uuid(),
  /** Shown this once; the server keeps only its hash. */
  agentSecret: ZCredential(AGENT_SECRET_PREFIX),
  target: z.object({ name: z.string(), environment: z.string(), application: z.string(), customer: z.string() }),
  heartbeatIntervalSeconds: z.number().int().positive(),
});
export type TEnrollResponse = z.infer<typeof ZEnrollResponseSchema>;

export const ZHeartbeatRequestSchema = z.object({
  agentVersion: z.string().trim().min(1).max(64),
  hostname: z.string().trim().min(1).max(255),
  /** The release the node serves now (its `current` symlink), or null before the first install. */
  liveReleaseId: z.uuid().nullable(),
  /** Releases extracted on the node, ready for an instant switch (revert). */
  stagedReleaseIds: z.array(z.uuid()).max(100),
});
export type THeartbeatRequest = z.infer<typeof ZHeartbeatRequestSchema>;

export const ZHeartbeatResponseSchema = z.object({
  serverTime: z.iso.datetime(),
  heartbeatIntervalSeconds: z.number().int().positive(),
});
export type THeartbeatResponse = z.infer<typeof ZHeartbeatResponseSchema>;

/** Every error the agent API returns. */
export const ZAgentErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

// ---------------------------------------------------------------------------------------------------------------
// Jobs. An agent long-polls POST /jobs/claim; the answer is at most one job, leased to that agent. Every later call
// about the job carries the lease id: it is the fencing token, and a call with a lease the server no longer honours
// (expired, re-issued, step finished differently) is refused with 409 LEASE_LOST so a stale agent changes nothing.

/** The longest the server holds a claim open; agents ask for less so proxies never cut the request. */
export const MAX_CLAIM_WAIT_SECONDS = 30;

export const ZClaimRequestSchema = z.object({
  /** How long the server may hold the request open when there is no work. 0 = answer at once. */
  waitSeconds: z.number().int().min(0).max(MAX_CLAIM_WAIT_SECONDS),
});
export type TClaimRequest = z.infer<typeof ZClaimRequestSchema>;

export const ZJobActionSchema = z.enum(["STAGE", "ACTIVATE", "ROLLBACK"]);
export type TJobAction = z.infer<typeof ZJobActionSchema>;

export const ZJobReleaseSchema = z.object({
  id: z.uuid(),
  version: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  fileName: z.string(),
  /** Path on the control plane (agent API, bearer auth, Range supported). */
  downloadPath: z.string(),
  needsMigration: z.boolean(),
});
export type TJobRelease = z.infer<typeof ZJobReleaseSchema>;

export const ZJobHooksSchema = z.object({
  stop: z.string().nullable(),
  start: z.string().nullable(),
  backup: z.string().nullable(),
  migrate: z.string().nullable(),
  validate: z.string().nullable(),
  maintenanceOn: z.string().nullable(),
  maintenanceOff: z.string().nullable(),
  /** Must answer 2xx once the node runs the new build. */
  healthCheckUrl: z.string().nullable(),
  /** ... and its body must contain the release's version. */
  healthCheckExpectsVersion: z.boolean(),
  /**
   * The check fails once this many answers in a row carry a 5xx status, instead of waiting for the timeout; 0 = off.
   * Optional so agents and control planes of either age understand each other; absent means 3, the default.
   */
  healthCheckFailAfter5xx: z.number().int().min(0).optional(),
  timeoutSeconds: z.number().int().positive(),
});
export type TJobHooks = z.infer<typeof ZJobHooksSchema>;

export const ZJobLoadBalancerSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("NONE") }),
  z.object({ kind: z.literal("HAPROXY"), address: z.string(), backend: z.string(), server: z.string() }),
  z.object({ kind: z.literal("HOOK"), drainCommand: z.string().nullable(), undrainCommand: z.string().nullable() }),
]);
export type TJobLoadBalancer = z.infer<typeof ZJobLoadBalancerSchema>;

export const ZJobSchema = z.object({
  stepId: z.uuid(),
  leaseId: z.uuid(),
  /** Report progress at least this often; a lease not renewed in time expires and the step counts as interrupted. */
  leaseSeconds: z.number().int().positive(),
  action: ZJobActionSchema,
  attempt: z.number().int().positive(),
  deployment: z.object({ id: z.uuid(), kind: z.enum(["DEPLOY", "REVERT"]) }),
  application: z.object({ id: z.uuid(), name: z.string(), slug: z.string() }),
  environment: z.object({ id: z.uuid(), name: z.string(), slug: z.string() }),
  target: z.object({ id: z.uuid(), name: z.string() }),
  /** The build this step installs (for ROLLBACK: the one the node returns to). */
  release: ZJobReleaseSchema,
  /** Run the backup and migrate hooks on this node before it starts the new build (the first node of a migration). */
  runMigration: z.boolean(),
  hooks: ZJobHooksSchema,
  keepReleases: z.number().int().positive(),
  persistentPaths: z.array(z.string()),
  loadBalancer: ZJobLoadBalancerSchema,
});
export type TJob = z.infer<typeof ZJobSchema>;

export const ZClaimResponseSchema = z.object({ job: ZJobSchema.nullable() });
export type TClaimResponse = z.infer<typeof ZClaimResponseSchema>;

/** A step's progress. RUNNING renews the lease; the three final states end it. Repeating a final report is harmless. */
export const ZStepReportSchema = z.object({
  leaseId: z.uuid(),
  status: z.enum(["RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "INTERRUPTED"]),
  /** e.g. "downloading", "draining", "health-check". */
  phase: z.string().trim().max(64).optional(),
  message: z.string().max(2000).optional(),
  /** Download/extract progress, 0..1, for the progress bar. */
  progress: z.number().min(0).max(1).optional(),
});
export type TStepReport = z.infer<typeof ZStepReportSchema>;

export const ZStepReportResponseSchema = z.object({
  /** Ops cancelled the deployment: stop at the next safe point and report CANCELLED. */
  cancelRequested: z.boolean(),
});
export type TStepReportResponse = z.infer<typeof ZStepReportResponseSchema>;

/** Log lines in ordered chunks. `seq` starts at 0 per step; a chunk sent twice is stored once. */
export const ZStepLogRequestSchema = z.object({
  leaseId: z.uuid(),
  chunks: z.array(z.object({ seq: z.number().int().min(0), text: z.string().max(64 * 1024) })).min(1).max(64),
});
export type TStepLogRequest = z.infer<typeof ZStepLogRequestSchema>;

export const AGENT_API_PATHS = {
  enroll: `${AGENT_API_PREFIX}/enroll`,
  heartbeat: `${AGENT_API_PREFIX}/heartbeat`,
  claim: `${AGENT_API_PREFIX}/jobs/claim`,
  report: (stepId: string) => `${AGENT_API_PREFIX}/steps/${stepId}/report`,
  logs: (stepId: string) => `${AGENT_API_PREFIX}/steps/${stepId}/logs`,
  artifact: (releaseId: string) => `${AGENT_API_PREFIX}/artifacts/${releaseId}`,
} as const;
