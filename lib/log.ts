// Structured JSON logs (one object per line) for every part of the control plane.
// Secrets are redacted by key wherever they appear in a logged object; never log them in messages either.
import pino from "pino";
import { env } from "./env";

export const log = pino({
  level: env().LOG_LEVEL,
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
});

export type Logger = typeof log;
