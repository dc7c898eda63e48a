// Structured JSON logs (one object per line) for every part of the control plane.
// Secrets are redacted by key wherever they appear in a logged object; never log them in messages either.
import pino from "pino";
import { env } from "./env";

/**
 * Errors are logged as their type, message, stack and plain fields (code, severity, ...), never as the objects
 * libraries hang on them: pg attaches its whole client (connection parameters, a password among them) to a
 * connection error, and redaction by key path cannot reach every depth such an object may nest.
 */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const full = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(full)) {
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) plain[key] = value;
  }
  if (err.cause !== undefined) plain.cause = serializeError(err.cause);
  return plain;
}

export const loggerOptions: pino.LoggerOptions = {
  level: env().LOG_LEVEL,
  serializers: { err: serializeError },
  base: { service: "releasegate" },
  redact: {
    paths: [
      "password",
      "*.password",
      "passwordHash",
      "*.passwordHash",
      "token",
      "*.token",
      "secret",
      "*.secret",
      "authorization",
      "*.authorization",
      "headers.cookie",
      "*.headers.cookie",
    ],
    censor: "[redacted]",
  },
  timestamp: pino.stdTimeFunctions.isoTime,
};

export const log = pino(loggerOptions);

export type Logger = typeof log;
