import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { AGENT_SECRET_PREFIX, ENROLLMENT_TOKEN_PREFIX } from "../contracts/agent-api";

// Agent credentials carry 256 random bits, so a fast hash is enough to store them (no dictionary to guess from);
// the server keeps only sha256 and finds the row by it.
export const hashCredential = (plain: string): string => createHash("sha256").update(plain, "utf8").digest("hex");

export function newAgentSecret(): string {
  return `${AGENT_SECRET_PREFIX}${randomBytes(32).toString("base64url")}`;
}

export function newEnrollmentToken(): string {
  return `${ENROLLMENT_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** How long an enrollment token may be exchanged: long enough to install the agent, short enough to go stale. */
export const ENROLLMENT_TOKEN_TTL_MS = 60 * 60_000;
