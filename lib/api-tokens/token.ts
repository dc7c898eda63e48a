import "server-only";
import { randomBytes } from "node:crypto";
import type { Role } from "../db/generated/enums";

// API tokens are built like agent secrets (lib/agents/credentials.ts): a recognisable prefix and 256 random bits,
// so secret scanners can spot a leaked one and a fast hash is enough to store it (hashCredential).
export const API_TOKEN_PREFIX = "rgt_";
export const API_TOKEN_PATTERN = /^rgt_[A-Za-z0-9_-]{43}$/;

export function newApiToken(): string {
  return `${API_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** What lists show to tell tokens apart: the prefix and the first 6 random characters (36 of 256 bits). */
export const displayPrefix = (token: string): string => token.slice(0, API_TOKEN_PREFIX.length + 6);

/**
 * The roles a pipeline's token may carry. Accepting a release (customer) and approving it are a person's own
 * judgement and are never delegated to a machine; auditors' read access may be.
 */
export const TOKEN_ROLES = ["DEVELOPER", "OPS", "AUDITOR"] as const satisfies readonly Role[];

export const tokenLabel = (name: string, prefix: string) => `API token ${name} (${prefix.slice(API_TOKEN_PREFIX.length)})`;
