import { describe, expect, it } from "vitest";
import { normalisePersistentPath, releaseDirName } from "./release-store";

const sha = "0123456789abcdef".repeat(4);

describe("releaseDirName", () => {
  it("is the version and the first 12 hex digits of the hash", () => {
    expect(releaseDirName("1.4.2", sha)).toBe("1.4.2-0123456789ab");
    expect(releaseDirName("1.4.2", sha.toUpperCase())).toBe("1.4.2-0123456789ab");
  });

  it("reduces any version to one safe path segment", () => {
    expect(releaseDirName("v2.0.0+build/7 (rc)", sha)).toBe("v2.0.0_build_7__rc_-0123456789ab");
    expect(releaseDirName("../../etc", sha)).toBe("___.._etc-0123456789ab");
    expect(releaseDirName("..", sha)).toBe("__-0123456789ab");
    expect(releaseDirName("", sha)).toBe("release-0123456789ab");
    expect(releaseDirName("x".repeat(300), sha)).toHaveLength(100 + 13);
  });

  it("refuses something that is not a SHA-256", () => {
    expect(() => releaseDirName("1.0.0", "abc")).toThrow(/Not a SHA-256/);
  });
});

describe("normalisePersistentPath", () => {
  it("normalises relative paths", () => {
    expect(normalisePersistentPath("uploads/")).toBe("uploads");
    expect(normalisePersistentPath("./storage//app")).toBe("storage/app");
  });

  it.each([
    ["/var/data", /must be relative/],
    ["../shared", /must not contain/],
    ["a/../../b", /must not contain/],
    ["", /names the release itself/],
    ["./", /names the release itself/],
    [".releasegate.json", /Releasegate's own/],
  ])("refuses %j", (raw, message) => {
    expect(() => normalisePersistentPath(raw)).toThrow(message);
  });
});
