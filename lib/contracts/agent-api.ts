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
