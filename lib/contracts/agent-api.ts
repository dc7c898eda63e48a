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

/**
 * Text as a node reports it (hook output, a REVISION file, where a symlink points): kept as sent, except NUL, which
 * PostgreSQL text cannot hold, so one NUL made the whole call fail (a step's log, its report, the heartbeat). Each is
 * kept as U+FFFD, the replacement character, as invalid UTF-8 already is.
 */
const reported = (text: z.ZodString) => text.transform((t) => t.replaceAll("\u0000", "\uFFFD"));

/**
 * What the node's `current` is, whoever put it there: so a server taken over from another tool (or changed by one)
 * shows what it runs, not "no release installed". `path` is where the symlink points, as readlink gives it.
 */
export const ZCurrentReportSchema = z.discriminatedUnion("kind", [
  /** No `current` at all: nothing installed yet. */
  z.object({ kind: z.literal("none") }),
  /** A build this agent installed (its marker is there). */
  z.object({ kind: z.literal("release"), path: reported(z.string().max(4096)), releaseId: z.uuid(), version: z.string().max(200), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  /** A symlink to a directory another tool installed; `revision`: the first line of its REVISION or VERSION file. */
  z.object({ kind: z.literal("foreign"), path: reported(z.string().max(4096)), revision: reported(z.string().max(200)).nullable() }),
  /** `current` is a plain directory, not a symlink (copied there by hand or by another tool). */
  z.object({ kind: z.literal("directory"), revision: reported(z.string().max(200)).nullable() }),
  /** A symlink to something that is not there. */
  z.object({ kind: z.literal("missing"), path: reported(z.string().max(4096)) }),
]);
export type TCurrentReport = z.infer<typeof ZCurrentReportSchema>;

/**
 * A balancer membership the agent reads on each heartbeat (HAProxy's runtime API), so the environment page shows
 * each balancer's own view of the server: agents reach the balancers (they drain through them); the control plane
 * may not.
 */
export const ZBalancerToReadSchema = z.object({
  membershipId: z.uuid(),
  balancer: z.string(),
  address: z.string(),
  backend: z.string(),
  server: z.string(),
});
export type TBalancerToRead = z.infer<typeof ZBalancerToReadSchema>;

const count = z.number().int().nonnegative();
export const ZBalancerReadingSchema = z.union([
  z.object({
    membershipId: z.uuid(),
    /** READY, DRAIN or MAINT. */
    adminState: z.enum(["READY", "DRAIN", "MAINT"]),
    /** show stat's status column ("UP", "DOWN", "MAINT", "UP 1/2", "no check"...). */
    status: reported(z.string().max(64)),
    sessions: count,
    /** The last health check, e.g. "L7OK 200"; null when HAProxy does not check the server. */
    check: reported(z.string().max(200)).nullable(),
    /** Cumulative HTTP responses and, of them, 5xx (HAProxy's counters; they restart with HAProxy). */
    responses: count,
    http5xx: count,
    /** Average response time over the last 1024 requests, ms. */
    rtimeMs: count,
  }),
  z.object({ membershipId: z.uuid(), error: reported(z.string().max(500)) }),
]);
export type TBalancerReading = z.infer<typeof ZBalancerReadingSchema>;

export const ZHeartbeatRequestSchema = z.object({
  agentVersion: z.string().trim().min(1).max(64),
  hostname: z.string().trim().min(1).max(255),
  /** The release the node serves now (its `current` symlink), or null before the first install. */
  liveReleaseId: z.uuid().nullable(),
  /** Releases extracted on the node, ready for an instant switch (revert). */
  stagedReleaseIds: z.array(z.uuid()).max(100),
  /** What `current` is; older agents leave it out (the server then knows only liveReleaseId). */
  current: ZCurrentReportSchema.optional(),
  /** The agent's latest reading of each balancer membership the last heartbeat's answer asked it to read. */
  balancers: z.array(ZBalancerReadingSchema).max(64).optional(),
});
export type THeartbeatRequest = z.infer<typeof ZHeartbeatRequestSchema>;

export const ZHeartbeatResponseSchema = z.object({
  serverTime: z.iso.datetime(),
  heartbeatIntervalSeconds: z.number().int().positive(),
  /** What to read from the balancers for the next heartbeat; absent from older control planes. */
  balancers: z.array(ZBalancerToReadSchema).optional(),
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

/** The one balancer of agents before 0.3.0 (`loadBalancer`); newer ones read `loadBalancers`. */
export const ZJobLoadBalancerSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("NONE") }),
  z.object({ kind: z.literal("HAPROXY"), address: z.string(), backend: z.string(), server: z.string() }),
  z.object({ kind: z.literal("HOOK"), drainCommand: z.string().nullable(), undrainCommand: z.string().nullable() }),
]);
export type TJobLoadBalancer = z.infer<typeof ZJobLoadBalancerSchema>;

/**
 * Each balancer the node sits behind (a redundant pair, one per site...). The agent takes the node out of all of
 * them before it touches it and puts it back on all of them, never leaving it serving on one and out of another.
 */
export const ZJobBalancerSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("HAPROXY"), name: z.string(), address: z.string(), backend: z.string(), server: z.string() }),
  z.object({ kind: z.literal("HOOK"), name: z.string(), drainCommand: z.string().nullable(), undrainCommand: z.string().nullable(), backend: z.string(), server: z.string() }),
]);
export type TJobBalancer = z.infer<typeof ZJobBalancerSchema>;

/**
 * Post-deploy analysis: once the node is back in rotation, the agent watches it for `bakeSeconds` through its
 * HAProxy balancers' own counters (`show stat`: hrsp_5xx and the other hrsp_*, rtime) and fails the step when a
 * figure is over its limit, so the rollout halts and rolls back. Sent for the activations of a deployment (never for
 * a rollback, nor a revert: see lib/agents/claim-job.ts); null or absent: no bake.
 */
export const ZJobAnalysisSchema = z.object({
  bakeSeconds: z.number().int().positive(),
  /** Most 5xx responses, in percent of the node's responses in the window (above what the previous build answers). */
  max5xxPercent: z.number().min(0).max(100),
  /** Slowest average response time (HAProxy's rtime), ms; null = no limit. */
  maxResponseMs: z.number().int().positive().nullable(),
  /** Most times the previous build's average response time; null = no limit. */
  maxResponseRatio: z.number().positive().nullable(),
  /** Fewer responses than this in the window are too few to judge: the analysis passes, saying so. */
  minResponses: z.number().int().positive(),
  /**
   * What the node is compared with: the environment's other servers that still ran the previous build when the job
   * was claimed, by their HAProxy memberships (the agent reads their counters over the same window).
   */
  previous: z.object({
    /** The release they run, for messages; null when it is not one Releasegate knows (a first deployment). */
    version: z.string().nullable(),
    servers: z.array(z.object({ target: z.string(), balancer: z.string(), address: z.string(), backend: z.string(), server: z.string() })).max(1000),
  }),
});
export type TJobAnalysis = z.infer<typeof ZJobAnalysisSchema>;

/** The first agent version that runs the post-deploy analysis; an older one would let the bake pass unwatched. */
export const ANALYSIS_AGENT_VERSION = "0.4.0";

/** The first agent version that reads `loadBalancers`; an older one would drain the node on one balancer only. */
export const MULTI_BALANCER_AGENT_VERSION = "0.3.0";

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
  /**
   * The build this step installs (for ROLLBACK: the one the node returns to). With `restore`, the release the node
   * is taken off (for hooks' environment and the log): it installs nothing.
   */
  release: ZJobReleaseSchema,
  /**
   * Switch `current` back to this directory, which Releasegate did not install (a build from before Releasegate
   * took the server over), instead of installing `release`. Sent only to agents that report `current` (heartbeat).
   */
  restore: z.object({ path: z.string().max(4096) }).nullable().optional(),
  /** Run the backup and migrate hooks on this node before it starts the new build (the first node of a migration). */
  runMigration: z.boolean(),
  hooks: ZJobHooksSchema,
  keepReleases: z.number().int().positive(),
  persistentPaths: z.array(z.string()),
  loadBalancer: ZJobLoadBalancerSchema,
  /** Absent from control planes before balancers were objects: the agent then uses `loadBalancer`. */
  loadBalancers: z.array(ZJobBalancerSchema).optional(),
  /** Watch the node after it is back in rotation (ACTIVATE only); null or absent (older control planes): no bake. */
  analysis: ZJobAnalysisSchema.nullable().optional(),
});
export type TJob = z.infer<typeof ZJobSchema>;

export const ZClaimResponseSchema = z.object({ job: ZJobSchema.nullable() });
export type TClaimResponse = z.infer<typeof ZClaimResponseSchema>;

const ZWindowCounts = z.object({
  /** HTTP responses in the window and, of them, 5xx (differences of HAProxy's cumulative counters). */
  responses: count,
  http5xx: count,
  /** HAProxy's rtime at the end of the window (its average over the last 1024 responses), ms; null without responses. */
  rtimeMs: count.nullable(),
});

/**
 * The verdict of a post-deploy analysis and the figures that decided it, as the agent reports it with the step's
 * final status: FAILED only with a FAILED step; PASSED (judged or, with too little to go on, not) and STOPPED (ops
 * stopped the deployment during the bake) with a SUCCEEDED one, whose switch did succeed.
 */
export const ZAnalysisResultSchema = z.object({
  verdict: z.enum(["PASSED", "FAILED", "STOPPED"]),
  /** False when there was too little to judge on (too little traffic, no HAProxy counters): said in `summary`. */
  judged: z.boolean(),
  /** The figure over its limit, for a failure. */
  tripped: z.enum(["5xx", "responseTime", "responseRatio"]).nullable(),
  /** The verdict in one or two sentences, as the step, the deployment page and the audit record say it. */
  summary: reported(z.string().max(2000)),
  bakeSeconds: z.number().int().positive(),
  /** How long the node was watched: less than bakeSeconds when a figure was clearly over early, or ops stopped. */
  watchedSeconds: z.number().nonnegative(),
  limits: ZJobAnalysisSchema.pick({ max5xxPercent: true, maxResponseMs: true, maxResponseRatio: true, minResponses: true }),
  /** The node, all its HAProxy balancers together, and each of them. */
  node: ZWindowCounts.extend({
    balancers: z
      .array(ZWindowCounts.extend({ balancer: reported(z.string().max(200)), backend: reported(z.string().max(200)), server: reported(z.string().max(200)), error: reported(z.string().max(500)).nullable() }))
      .max(64),
  }),
  /** The servers still on the previous build over the same window; null when none was left to compare with. */
  previous: ZWindowCounts.extend({ version: z.string().max(200).nullable(), servers: z.number().int().nonnegative() }).nullable(),
});
export type TAnalysisResult = z.infer<typeof ZAnalysisResultSchema>;

/** A step's progress. RUNNING renews the lease; the three final states end it. Repeating a final report is harmless. */
export const ZStepReportSchema = z.object({
  leaseId: z.uuid(),
  status: z.enum(["RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "INTERRUPTED"]),
  /** e.g. "downloading", "draining", "health-check". */
  phase: reported(z.string().trim().max(64)).optional(),
  message: reported(z.string().max(2000)).optional(),
  /** Download/extract progress, 0..1, for the progress bar (and how far a bake is). */
  progress: z.number().min(0).max(1).optional(),
  /** An activation's post-deploy analysis, with its final report. */
  analysis: ZAnalysisResultSchema.optional(),
}).refine(
  (r) => !r.analysis || (r.analysis.verdict === "FAILED" ? r.status === "FAILED" : r.status === "SUCCEEDED"),
  { message: "an analysis comes with the step's final report: a failed one with FAILED, a passed or stopped one with SUCCEEDED", path: ["analysis"] },
);
export type TStepReport = z.infer<typeof ZStepReportSchema>;

/**
 * How a failed activation's message ends (agent/src/run-job.ts): what the failure left on the node, as it was then.
 * Once a rollback has returned that node, it is no longer true, and the deployment's reason leaves it out
 * (lib/rollouts/planner.ts); the step keeps its message as it was.
 */
export const leftBehindSentence = (target: string, state: string) => ` Left behind on ${target}: ${state}.`;

/** The message without its "left behind" sentence about `target`, if it has one. */
export function withoutLeftBehind(message: string, target: string): string {
  const at = message.lastIndexOf(` Left behind on ${target}: `);
  return at < 0 ? message : message.slice(0, at);
}

export const ZStepReportResponseSchema = z.object({
  /** Ops cancelled the deployment: stop at the next safe point and report CANCELLED. */
  cancelRequested: z.boolean(),
});
export type TStepReportResponse = z.infer<typeof ZStepReportResponseSchema>;

/**
 * Log lines in ordered chunks. `seq` starts at 0 per step; a chunk sent twice is stored once. An agent keeps chunks
 * it could not send (the control plane unreachable) and sends them when it is back; when its buffer is full it
 * drops the oldest unsent ones and says so in `lost`, so the page marks the hole instead of hiding it.
 */
export const ZStepLogRequestSchema = z.object({
  leaseId: z.uuid(),
  chunks: z
    .array(
      z.object({
        seq: z.number().int().min(0),
        text: reported(z.string().max(64 * 1024)),
        /** The number of the chunk's first line in the step's log (1-based); older agents leave it out. */
        line: z.number().int().min(1).optional(),
      }),
    )
    .min(1)
    .max(64),
  /** Chunks the agent dropped unsent (buffer cap exceeded): they will never arrive. `fromLine` numbers their first line. */
  lost: z
    .array(z.object({ fromSeq: z.number().int().min(0), toSeq: z.number().int().min(0), fromLine: z.number().int().min(1).optional() }).refine((r) => r.toSeq >= r.fromSeq, "toSeq must not be before fromSeq"))
    .max(64)
    .optional(),
});
export type TStepLogRequest = z.infer<typeof ZStepLogRequestSchema>;

/**
 * Who the calling agent is to the control plane and which job it holds, for `releasegate-agent status` (it proves
 * the server can be reached and takes the secret, and changes nothing: not even the server's "last seen").
 * Control planes older than this call answer 404.
 */
export const ZWhoAmIRequestSchema = z.object({});
export const ZWhoAmIResponseSchema = z.object({
  targetId: z.uuid(),
  target: z.object({ name: z.string(), environment: z.string(), application: z.string(), customer: z.string() }),
  /** The step leased to this server (claimed or running), or null when it holds none. */
  job: z
    .object({
      stepId: z.uuid(),
      deploymentId: z.uuid(),
      action: ZJobActionSchema,
      version: z.string(),
      status: z.enum(["CLAIMED", "RUNNING"]),
      phase: z.string().nullable(),
    })
    .nullable(),
});
export type TWhoAmIResponse = z.infer<typeof ZWhoAmIResponseSchema>;

export const AGENT_API_PATHS = {
  enroll: `${AGENT_API_PREFIX}/enroll`,
  heartbeat: `${AGENT_API_PREFIX}/heartbeat`,
  whoami: `${AGENT_API_PREFIX}/whoami`,
  claim: `${AGENT_API_PREFIX}/jobs/claim`,
  report: (stepId: string) => `${AGENT_API_PREFIX}/steps/${stepId}/report`,
  logs: (stepId: string) => `${AGENT_API_PREFIX}/steps/${stepId}/logs`,
  artifact: (releaseId: string) => `${AGENT_API_PREFIX}/artifacts/${releaseId}`,
} as const;
