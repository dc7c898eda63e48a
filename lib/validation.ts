// Input validation shared by the domain and the entry points: one zod parse whose failure is a 400 with a message
// a person can act on ("reason: Say why…"), never a ZodError escaping as a 500.
import { z } from "zod";
import { AppError } from "./errors";

/** Parses input with its zod schema; the first problem becomes the message, all of them fieldErrors. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new AppError("INVALID_INPUT", first ? `${first.path.join(".") || "body"}: ${first.message}` : "Invalid request.", {
      fieldErrors: z.flattenError(parsed.error).fieldErrors as Record<string, string[]>,
    });
  }
  return parsed.data;
}

/** For z.preprocess: an empty or blank form field means "not given" (FormData sends "" for an unfilled input). */
export const emptyAsUndefined = (v: unknown) => (v === null || (typeof v === "string" && v.trim() === "") ? undefined : v);

/**
 * Text PostgreSQL can store. Its text and jsonb types refuse the NUL character (U+0000): such a value reaches the
 * database only to fail there (22021, 22P05, or the connection dropped: 08P01), a 500 for what is the sender's
 * mistake. Every schema for free text a person or a URL supplies starts here, so the refusal is a 400 that says what
 * to change. Chain .trim(), .min(), .max() as on z.string(); `max` is for text that is not trimmed first (a bound
 * checked before a later .trim() would count the spaces trimmed). `missing` is the message when it is not text at all.
 */
export function ZText(options: { max?: number; tooLong?: string; missing?: string } = {}) {
  const text = z.string(options.missing).refine((v) => !v.includes("\u0000"), "Remove the NUL character (\\u0000), which text cannot hold.");
  return options.max === undefined ? text : text.max(options.max, options.tooLong ?? `Use at most ${options.max} characters.`);
}

/** PostgreSQL's bigint, the type of every sequence number (AuditEvent.seq). */
export const MAX_BIGINT = 9_223_372_036_854_775_807n;

/**
 * A position in a sequence as a URL carries it (a keyset cursor, "events before #N"): a whole number from 1 to
 * PostgreSQL's largest bigint. Anything else is refused here instead of failing in the query (22003).
 */
export const ZSequenceCursor = (message = "Not a position in the record (a whole number from 1 to 9223372036854775807).") =>
  z.coerce.bigint(message).min(1n, message).max(MAX_BIGINT, message);

/**
 * A date and time PostgreSQL's timestamp holds and a person could mean: years 1970 to 9999. JavaScript dates reach
 * year 275760 (and back as far), which PostgreSQL refuses (22008) as a 500 for what is a typing slip.
 */
export const ZStorableDate = (message: string) =>
  z.coerce.date(message).min(new Date("1970-01-01T00:00:00Z"), message).max(new Date("9999-12-31T23:59:59Z"), message);
