import { z } from "zod";

// NIST 800-63B: length over composition rules; refuse the obvious.
export const ZPassword = z
  .string()
  .min(12, "Use at least 12 characters.")
  .max(256, "Use at most 256 characters.")
  .refine((p) => new Set(p).size >= 5, "Use a less repetitive password.");
