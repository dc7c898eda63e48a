import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loggerOptions } from "./log";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ ...loggerOptions, level: "info" }, stream), lines };
}

describe("log", () => {
  it("logs an error's message, code and stack but not the client object pg hangs on it, with its password", () => {
    const { logger, lines } = capture();
    const err = Object.assign(new Error("terminating connection due to administrator command"), {
      code: "57P01",
      severity: "FATAL",
      client: { connectionParameters: { user: "releasegate", password: "s3cret-db-password", host: "db" }, _queryQueue: [] },
    });
    logger.warn({ err }, "an idle database connection was closed");
    const entry = JSON.parse(lines[0]!) as { err: Record<string, unknown>; msg: string };
    expect(entry.msg).toBe("an idle database connection was closed");
    expect(entry.err).toMatchObject({ type: "Error", message: "terminating connection due to administrator command", code: "57P01", severity: "FATAL" });
    expect(entry.err.stack).toMatch(/^Error: terminating connection/);
    expect(lines[0]).not.toContain("s3cret-db-password");
    expect(lines[0]).not.toContain("connectionParameters");
  });

  it("keeps an error's cause, and redacts secrets by key in what else is logged", () => {
    const { logger, lines } = capture();
    const err = new Error("upload failed", { cause: Object.assign(new Error("disk full"), { code: "ENOSPC" }) });
    logger.error({ err, user: { email: "a@example.test", password: "hunter2" }, token: "rga_secret" }, "oops");
    const entry = JSON.parse(lines[0]!) as { err: { cause: Record<string, unknown> }; user: Record<string, unknown>; token: string };
    expect(entry.err.cause).toMatchObject({ message: "disk full", code: "ENOSPC" });
    expect(entry.user).toEqual({ email: "a@example.test", password: "[redacted]" });
    expect(entry.token).toBe("[redacted]");
  });
});
