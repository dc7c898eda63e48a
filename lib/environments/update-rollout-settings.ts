import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";
import { parseInput, ZText } from "../validation";

// The schema accepts both what a form sends (text, "on" checkboxes, one path per line) and its own output (numbers,
// booleans, arrays, null), so domain callers and server actions share it.

const ZCheckbox = z.preprocess((v) => v === "on" || v === "true" || v === true, z.boolean());

const ZWhole = (min: number, max: number, what: string) =>
  z.coerce.number(`Enter ${what}.`).int("Enter a whole number.").min(min, `At least ${min}.`).max(max, `At most ${max}.`);

/** An empty command means "not configured": the agent skips that hook. */
const ZCommand = z.preprocess(
  (v) => (typeof v === "string" && v.trim() === "" ? null : v),
  ZText().trim().max(4000, "Use at most 4000 characters.").nullable().default(null),
);

/** ${NAME} placeholders are expanded per node by the agent (e.g. ${NODE_HOST}); they must leave a valid URL. */
const PLACEHOLDER = /\$\{([A-Z_][A-Z0-9_]*)\}/g;
const ZHealthCheckUrl = z.preprocess(
  (v) => (typeof v === "string" && v.trim() === "" ? null : v),
  ZText()
    .trim()
    .max(2000, "Use at most 2000 characters.")
    .refine((v) => {
      try {
        // "1" fits wherever a placeholder may stand: host, port (http://127.0.0.1:${PORT}/health) or path.
        const url = new URL(v.replace(PLACEHOLDER, "1"));
        return url.protocol === "http:" || url.protocol === "https:";
      } catch {
        return false;
      }
    }, "Enter an http:// or https:// URL, like http://127.0.0.1:8080/health (${VARIABLES} are filled in per server).")
    .nullable()
    .default(null),
);

/**
 * Paths under the application's shared/ directory that every release links to (uploads, caches): relative, inside
 * the application directory. Absolute paths and `..` would let a setting reach outside it on every node.
 */
const ZPersistentPaths = z.preprocess(
  (v) => (typeof v === "string" ? v.split(/\r?\n/) : v === undefined ? [] : v),
  z
    .array(z.string())
    .transform((lines) => [...new Set(lines.map((l) => l.trim().replace(/^(\.\/)+/, "").replace(/\/+$/, "")).filter((l) => l !== ""))])
    .pipe(
      z
        .array(
          z
            .string()
            .max(255, "Keep each path under 255 characters.")
            .refine((p) => !p.startsWith("/") && !p.startsWith("\\") && !/^[A-Za-z]:/.test(p), { error: (i) => `${String(i.input)}: use a path relative to the application directory, not an absolute one.` })
            .refine((p) => !p.split(/[\\/]/).includes(".."), { error: (i) => `${String(i.input)}: ".." is not allowed; the path must stay inside the application directory.` })
            .refine((p) => !/[\0\n]/.test(p) && !p.split("/").includes("."), { error: (i) => `${String(i.input)}: not a usable path.` }),
        )
        .max(50, "At most 50 persistent paths."),
    ),
);

/** A number with decimals ("2.5"), for percentages and ratios. */
const ZDecimal = (min: number, max: number, what: string) =>
  z.coerce.number(`Enter ${what}.`).refine(Number.isFinite, `Enter ${what}.`).pipe(z.number().min(min, `At least ${min}.`).max(max, `At most ${max}.`));

/** An optional limit: empty means none; absent keeps what is saved. */
const ZOptional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" ? null : v), schema.nullable().optional());

export const ZUpdateRolloutSettingsRequestSchema = z.object({
  environmentId: z.uuid(),
  strategy: z.enum(["ROLLING", "ALL_AT_ONCE"], "Choose rolling or all at once."),
  batchSize: ZWhole(1, 100, "how many servers to update at a time"),
  autoRollback: ZCheckbox,
  healthCheckUrl: ZHealthCheckUrl,
  healthCheckExpectsVersion: ZCheckbox,
  /** 0 = off: only the hook timeout ends a failing health check. Absent (older callers): the default, 3. */
  healthCheckFailAfter5xx: z.preprocess((v) => (v === "" ? undefined : v), ZWhole(0, 100, "how many 5xx answers in a row fail the health check")).default(3),
  stopCommand: ZCommand,
  startCommand: ZCommand,
  backupCommand: ZCommand,
  migrateCommand: ZCommand,
  validateCommand: ZCommand,
  maintenanceOnCommand: ZCommand,
  maintenanceOffCommand: ZCommand,
  hookTimeoutSeconds: ZWhole(5, 3600, "a timeout in seconds"),
  keepReleases: ZWhole(1, 50, "how many releases to keep"),
  persistentPaths: ZPersistentPaths,
  /**
   * Post-deploy analysis. Absent (a caller from before it) keeps what is saved: a client that does not know about the
   * bake never turns it off.
   */
  bakeSeconds: z.preprocess((v) => (v === "" ? undefined : v), ZWhole(0, 3600, "how long to watch each server, in seconds").optional()),
  bakeMax5xxPercent: z.preprocess((v) => (v === "" ? undefined : v), ZDecimal(0, 100, "the largest share of 5xx responses, in percent").optional()),
  bakeMaxResponseMs: ZOptional(ZWhole(1, 600_000, "the slowest average response time, in ms")),
  bakeMaxResponseRatio: ZOptional(ZDecimal(1, 1000, "how many times the previous build's response time")),
});
export type TUpdateRolloutSettingsRequest = z.input<typeof ZUpdateRolloutSettingsRequestSchema>;

type Settings = Omit<z.infer<typeof ZUpdateRolloutSettingsRequestSchema>, "environmentId">;
export const ROLLOUT_SETTING_FIELDS = [
  "strategy",
  "batchSize",
  "autoRollback",
  "healthCheckUrl",
  "healthCheckExpectsVersion",
  "healthCheckFailAfter5xx",
  "stopCommand",
  "startCommand",
  "backupCommand",
  "migrateCommand",
  "validateCommand",
  "maintenanceOnCommand",
  "maintenanceOffCommand",
  "hookTimeoutSeconds",
  "keepReleases",
  "persistentPaths",
  "bakeSeconds",
  "bakeMax5xxPercent",
  "bakeMaxResponseMs",
  "bakeMaxResponseRatio",
] as const satisfies readonly (keyof Settings)[];

/** Fields an older caller may leave out: what is saved stays. */
const KEPT_WHEN_ABSENT = ["bakeSeconds", "bakeMax5xxPercent", "bakeMaxResponseMs", "bakeMaxResponseRatio"] as const satisfies readonly (keyof Settings)[];

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Sets how an environment's releases are rolled out and installed on each server: strategy and batch size,
 * automatic rollback, the health check (and after how many 5xx answers in a row it fails), the hooks the agent runs, how long each may take, how many releases a node
 * keeps (for instant reverts), the paths shared between releases, and the post-deploy analysis (how long each node is
 * watched once it serves again, and the limits that fail it). A running deployment keeps its strategy and
 * batch size; hooks apply to jobs claimed from now on. Ops run this (target.manage). The audit event records only
 * the fields that changed; saving without changes records nothing.
 */
export async function updateRolloutSettings(actor: UserActor, raw: TUpdateRolloutSettingsRequest) {
  const { environmentId, ...settings } = parseInput(ZUpdateRolloutSettingsRequestSchema, raw);
  const env = await db.environment.findUnique({ where: { id: environmentId }, include: { application: true } });
  // Outside the actor's tenant the environment does not exist for them; a member who may not manage it is refused.
  if (!env || !can(actor, "application.view", env.applicationId)) throw notFound("Environment");
  assertCan(actor, "target.manage", env.applicationId);
  return db.$transaction(async (tx) => {
    // Read under the row lock, so `before` is what this change really replaced.
    await tx.$queryRaw`SELECT id FROM "Environment" WHERE id = ${environmentId}::uuid FOR UPDATE`;
    const current = await tx.environment.findUniqueOrThrow({ where: { id: environmentId } });
    const wanted = { ...settings, ...Object.fromEntries(KEPT_WHEN_ABSENT.filter((k) => settings[k] === undefined).map((k) => [k, current[k]])) };
    const changed = ROLLOUT_SETTING_FIELDS.filter((k) => !same(current[k], wanted[k]));
    if (changed.length === 0) return { environment: current, changed: [] as string[] };
    const updated = await tx.environment.update({ where: { id: environmentId }, data: wanted });
    await recordAuditEvent(tx, actor, {
      type: "ENVIRONMENT_UPDATED",
      object: { type: "Environment", id: environmentId },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId },
      summary: `changed the rollout settings of ${env.application.name} / ${env.name}: ${changed.join(", ")}`,
      before: Object.fromEntries(changed.map((k) => [k, current[k]])),
      after: Object.fromEntries(changed.map((k) => [k, wanted[k]])),
    });
    return { environment: updated, changed: changed as string[] };
  });
}
