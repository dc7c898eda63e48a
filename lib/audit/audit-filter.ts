// Auditor filters, shared by the search page and the exports, and the SQL they turn into. Tenant scope is not a
// filter the caller chooses: lib/audit/audit-scope.ts adds it from the actor's roles.
import { z } from "zod";
import { ZSequenceCursor, ZStorableDate, ZText } from "../validation";
import { AUDIT_EVENT_TYPES } from "./event-types";

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" || v === null ? undefined : v), schema.optional());

export const ZAuditFilterSchema = z.object({
  applicationId: optional(z.uuid("Choose an application from the list.")),
  environmentId: optional(z.uuid("Choose an environment from the list.")),
  /** The actor's email (or "system: ..." label), matched exactly, case-insensitively. */
  actor: optional(ZText().trim().toLowerCase().max(254, "An actor is an email or a system label of at most 254 characters.")),
  type: optional(z.enum(Object.keys(AUDIT_EVENT_TYPES) as [keyof typeof AUDIT_EVENT_TYPES, ...(keyof typeof AUDIT_EVENT_TYPES)[]], "Unknown event type.")),
  from: optional(ZStorableDate("Enter a valid start date.")),
  to: optional(ZStorableDate("Enter a valid end date.")),
  /** A release version (exact, or a prefix ending in *), resolved to release ids within the visible applications. */
  release: optional(ZText().trim().max(100, "A release version has at most 100 characters.")),
  /** Keyset cursor: show events older than this seq. */
  before: optional(ZSequenceCursor("The link's place in the record (before=) is not an event number.")),
});
export type TAuditFilter = z.infer<typeof ZAuditFilterSchema>;

/** Builds a parameterised WHERE clause. `applicationIds` null = every application (platform admins). */
export function auditWhereSql(
  f: TAuditFilter,
  scope: { applicationIds: string[] | null; releaseIds?: string[] | null; seqRange?: { first: bigint; last: bigint } | null },
): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (scope.applicationIds !== null) clauses.push(`"applicationId" = ANY(${p(scope.applicationIds)}::uuid[])`);
  if (f.applicationId) clauses.push(`"applicationId" = ${p(f.applicationId)}::uuid`);
  if (f.environmentId) clauses.push(`"environmentId" = ${p(f.environmentId)}::uuid`);
  if (f.actor) clauses.push(`lower("actorLabel") = ${p(f.actor)}`);
  if (f.type) clauses.push(`"type" = ${p(f.type)}`);
  if (f.from) clauses.push(`"occurredAt" >= ${p(f.from)}`);
  if (f.to) clauses.push(`"occurredAt" < ${p(f.to)}`);
  if (scope.seqRange) clauses.push(`"seq" BETWEEN ${p(scope.seqRange.first.toString())}::bigint AND ${p(scope.seqRange.last.toString())}::bigint`);
  if (scope.releaseIds) clauses.push(`"releaseId" = ANY(${p(scope.releaseIds)}::uuid[])`);
  if (f.before !== undefined) clauses.push(`"seq" < ${p(f.before.toString())}::bigint`);
  return { sql: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params };
}

/**
 * Whether the filter selects anything less than everything the actor may read (the page cursor aside). Only an
 * export without filters is complete and verifies end to end: an administrator's holds every event, an auditor's
 * every event of their applications and the hashes of all others (export-audit-events.ts).
 */
export const hasFilters = (f: TAuditFilter): boolean => Object.entries(f).some(([k, v]) => k !== "before" && v !== undefined);
