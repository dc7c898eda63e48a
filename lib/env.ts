// The one place that reads process.env. Every setting is declared here with its default, validated at start,
// and documented in README.md's configuration table (keep the two in step).
import { z } from "zod";
import { parseAllowedNetworks } from "./notifications/webhook-address-policy";

const emptyAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

const booleanString = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no"], "must be true or false"))
  .transform((v) => v === "true" || v === "1" || v === "yes");

export const ZEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  /** PostgreSQL connection string. Unset: scripts/start.ts starts an embedded PostgreSQL under DATA_DIR. */
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// connection string")
      .optional(),
  ),
  /** Where embedded PostgreSQL, artifacts and generated keys live. */
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default(".data")),
  PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(65535).default(3000)),
  HOST: z.preprocess(emptyAsUndefined, z.string().default("0.0.0.0")),
  /** Public URL of the control plane, used in links and by next-auth. */
  NEXTAUTH_URL: z.preprocess(emptyAsUndefined, z.url("must be an absolute URL such as https://releasegate.example.com").optional()),
  /** Signs session cookies. Unset: a random secret is generated once and kept in DATA_DIR. */
  NEXTAUTH_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, "must be at least 32 characters").optional()),
  /** Session lifetime; a signed-in browser must sign in again after this. */
  SESSION_MAX_AGE_HOURS: z.preprocess(emptyAsUndefined, z.coerce.number().positive().max(24 * 30).default(12)),
  /** Trust X-Forwarded-For for the client address (set when behind a reverse proxy you control). */
  TRUST_PROXY: z.preprocess(emptyAsUndefined, booleanString.default(false)),
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ),
  /** Failed sign-ins allowed per account from one address before that address waits LOGIN_BLOCK_MINUTES. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT_IP: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(10)),
  /** Failed sign-ins allowed per account from all addresses in LOGIN_BLOCK_MINUTES (ASVS: at most 100 an hour). */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(50)),
  /** Failed sign-ins allowed per address, over all accounts, in LOGIN_BLOCK_MINUTES. */
  LOGIN_MAX_FAILURES_PER_IP: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(100)),
  LOGIN_BLOCK_MINUTES: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(60).default(15)),
  /** Ed25519 key that signs audit checkpoints; generated on first start when absent. Keep it outside the database. */
  AUDIT_SIGNING_KEY_PATH: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** How often a signed checkpoint of the audit chain is written (when there are new events). */
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(5).max(86_400).default(300)),
  /**
   * Where uploaded release artifacts are kept, content-addressed by SHA-256. Unset: DATA_DIR/artifacts. Instances
   * that share a database must share this directory too (an NFS mount, for example).
   */
  ARTIFACT_DIR: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** The largest artifact an upload may carry, in bytes (default 4 GiB). */
  MAX_ARTIFACT_BYTES: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int("must be a whole number of bytes").min(1024, "must be at least 1024 bytes").max(2 ** 50).default(4 * 1024 ** 3),
  ),
  /**
   * Outgoing mail server for notification emails, e.g. smtps://user:password@mail.example.com:465 or
   * smtp://relay.internal:25 (STARTTLS when the server offers it). Unset: emails are logged instead of sent.
   * Contains a password: never log it.
   */
  SMTP_URL: z.preprocess(emptyAsUndefined, z.string().regex(/^smtps?:\/\/[^\s]+$/, "must be an smtp:// or smtps:// URL").optional()),
  /** Sender of notification emails. */
  MAIL_FROM: z.preprocess(emptyAsUndefined, z.string().min(3).max(200).default("Releasegate <releasegate@localhost>")),
  /**
   * Private or reserved networks webhooks may be delivered to (addresses and CIDRs, comma-separated, e.g.
   * "10.20.0.0/16, 127.0.0.1"). Unset: only public addresses (lib/notifications/webhook-address-policy.ts).
   */
  WEBHOOK_ALLOWED_NETWORKS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .superRefine((v, ctx) => {
        try {
          parseAllowedNetworks(v);
        } catch (e) {
          ctx.addIssue({ code: "custom", message: e instanceof Error ? e.message : String(e) });
        }
      })
      .optional(),
  ),
});

export type Env = z.infer<typeof ZEnvSchema>;

/** Parses an environment; throws one readable message listing every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = ZEnvSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}\nSee the configuration table in README.md.`);
  }
  return result.data;
}

let cached: Env | undefined;

/** The validated environment of this process (parsed on first use). */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
