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
