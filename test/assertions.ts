// Assertions shared by integration tests.
import { expect } from "vitest";
import { AppError, type ErrorCode } from "../lib/errors";

/**
 * Awaits `promise`, expects it to reject with an AppError of `code` (and, when given, a message matching
 * `message`), and returns the error for further checks. Anything else fails the test with what actually happened.
 */
export async function expectAppError(promise: Promise<unknown>, code: ErrorCode, message?: string | RegExp): Promise<AppError> {
  let outcome: { resolved: unknown } | { rejected: unknown };
  try {
    outcome = { resolved: await promise };
  } catch (e) {
    outcome = { rejected: e };
  }
  if ("resolved" in outcome) throw new Error(`expected an AppError ${code}, but the call succeeded`);
  const error = outcome.rejected;
  if (!(error instanceof AppError)) throw new Error(`expected an AppError ${code}, got ${String(error)}`, { cause: error });
  expect(error.code, error.message).toBe(code);
  if (typeof message === "string") expect(error.message).toBe(message);
  else if (message) expect(error.message).toMatch(message);
  return error;
}
