import { describe, expect, it } from "vitest";
import { parseEnv } from "./env";

/** The message parseEnv throws for `source`, or a failure when it parses. */
function errorFor(source: Parameters<typeof parseEnv>[0]): string {
  try {
    parseEnv(source);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(source)} to be rejected`);
}

describe("parseEnv", () => {
  it("fills in the defaults from an empty environment", () => {
    const e = parseEnv({});
    expect(e).toMatchObject({
      NODE_ENV: "development",
      DATA_DIR: ".data",
      PORT: 3000,
      HOST: "0.0.0.0",
      SESSION_MAX_AGE_HOURS: 12,
      TRUST_PROXY: false,
      LOG_LEVEL: "info",
      LOGIN_MAX_FAILURES_PER_ACCOUNT_IP: 10,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: 50,
      LOGIN_MAX_FAILURES_PER_IP: 100,
      LOGIN_BLOCK_MINUTES: 15,
    });
    // Unset means "provide one for me": scripts/start.ts starts PostgreSQL and generates a secret.
    expect(e.DATABASE_URL).toBeUndefined();
    expect(e.NEXTAUTH_URL).toBeUndefined();
    expect(e.NEXTAUTH_SECRET).toBeUndefined();
  });

  it("reads and coerces given values", () => {
    const e = parseEnv({
      NODE_ENV: "production",
      DATABASE_URL: "postgresql://rg:pw@db.internal:5432/releasegate",
      PORT: "8080",
      NEXTAUTH_URL: "https://releasegate.example.com",
      NEXTAUTH_SECRET: "s".repeat(32),
      SESSION_MAX_AGE_HOURS: "1.5",
      LOGIN_MAX_FAILURES_PER_ACCOUNT_IP: "3",
      LOG_LEVEL: "warn",
    });
    expect(e.NODE_ENV).toBe("production");
    expect(e.DATABASE_URL).toBe("postgresql://rg:pw@db.internal:5432/releasegate");
    expect(e.PORT).toBe(8080);
    expect(e.NEXTAUTH_URL).toBe("https://releasegate.example.com");
    expect(e.SESSION_MAX_AGE_HOURS).toBe(1.5);
    expect(e.LOGIN_MAX_FAILURES_PER_ACCOUNT_IP).toBe(3);
    expect(e.LOG_LEVEL).toBe("warn");
  });

  it("accepts both postgres:// and postgresql:// URLs", () => {
    expect(parseEnv({ DATABASE_URL: "postgres://localhost/x" }).DATABASE_URL).toBe("postgres://localhost/x");
    expect(parseEnv({ DATABASE_URL: "postgresql://localhost/x" }).DATABASE_URL).toBe("postgresql://localhost/x");
  });

  it.each(["abc", "0", "65536", "80.5", "-1"])("rejects PORT=%j with a message naming PORT", (port) => {
    const message = errorFor({ PORT: port });
    expect(message).toMatch(/^Invalid configuration:/);
    expect(message).toMatch(/^ {2}PORT: .+/m);
    expect(message).toContain("README.md");
  });

  it("rejects a DATABASE_URL that is not a postgresql:// URL, naming the variable and the expected form", () => {
    const message = errorFor({ DATABASE_URL: "mysql://localhost/releasegate" });
    expect(message).toContain("DATABASE_URL: must be a postgresql:// connection string");
  });

  it("lists every bad variable in one message", () => {
    const message = errorFor({ PORT: "nope", DATABASE_URL: "localhost:5432", NEXTAUTH_SECRET: "short", TRUST_PROXY: "maybe" });
    for (const name of ["PORT", "DATABASE_URL", "NEXTAUTH_SECRET", "TRUST_PROXY"]) expect(message).toMatch(new RegExp(`^ {2}${name}: `, "m"));
    expect(message).toContain("NEXTAUTH_SECRET: must be at least 32 characters");
  });

  it("does not echo the rejected value of a secret", () => {
    expect(errorFor({ NEXTAUTH_SECRET: "hunter2-is-my-secret" })).not.toContain("hunter2");
  });

  it("treats empty and blank strings as unset, so the default applies", () => {
    const e = parseEnv({ PORT: "", DATABASE_URL: "", DATA_DIR: "  ", TRUST_PROXY: "", LOG_LEVEL: "", NEXTAUTH_SECRET: "", NEXTAUTH_URL: " " });
    expect(e.PORT).toBe(3000);
    expect(e.DATABASE_URL).toBeUndefined();
    expect(e.DATA_DIR).toBe(".data");
    expect(e.TRUST_PROXY).toBe(false);
    expect(e.LOG_LEVEL).toBe("info");
    expect(e.NEXTAUTH_SECRET).toBeUndefined();
    expect(e.NEXTAUTH_URL).toBeUndefined();
  });

  it.each([
    ["true", true],
    ["1", true],
    ["yes", true],
    ["false", false],
    ["0", false],
    ["no", false],
  ])("TRUST_PROXY=%j is %s", (value, expected) => {
    expect(parseEnv({ TRUST_PROXY: value }).TRUST_PROXY).toBe(expected);
  });

  it.each(["maybe", "on", "2"])("rejects TRUST_PROXY=%j with a message naming it", (value) => {
    expect(errorFor({ TRUST_PROXY: value })).toMatch(/^ {2}TRUST_PROXY: /m);
  });

  it("rejects a NEXTAUTH_URL that is not absolute", () => {
    expect(errorFor({ NEXTAUTH_URL: "releasegate.example.com" })).toContain(
      "NEXTAUTH_URL: must be an absolute URL such as https://releasegate.example.com",
    );
  });

  it("bounds LOGIN_BLOCK_MINUTES and the failure limits", () => {
    expect(errorFor({ LOGIN_BLOCK_MINUTES: "0" })).toMatch(/^ {2}LOGIN_BLOCK_MINUTES: /m);
    expect(errorFor({ LOGIN_BLOCK_MINUTES: "61" })).toMatch(/^ {2}LOGIN_BLOCK_MINUTES: /m);
    expect(errorFor({ LOGIN_MAX_FAILURES_PER_ACCOUNT_IP: "0" })).toMatch(/^ {2}LOGIN_MAX_FAILURES_PER_ACCOUNT_IP: /m);
  });
});
