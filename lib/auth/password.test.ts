import { describe, expect, it } from "vitest";
import { generatePassword, hashPassword, verifyPassword } from "./password";
import { ZPassword } from "./password-policy";

describe("hashPassword / verifyPassword", () => {
  it("verifies the password it hashed, and nothing else", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(hash).not.toContain("correct horse");
    await expect(verifyPassword(hash, "correct horse battery staple")).resolves.toBe(true);
    await expect(verifyPassword(hash, "correct horse battery stapl")).resolves.toBe(false);
    await expect(verifyPassword(hash, "Correct horse battery staple")).resolves.toBe(false);
    await expect(verifyPassword(hash, "")).resolves.toBe(false);
  });

  it("salts: the same password hashes differently each time, and both verify", async () => {
    const [a, b] = await Promise.all([hashPassword("same password here"), hashPassword("same password here")]);
    expect(a).not.toBe(b);
    await expect(verifyPassword(a, "same password here")).resolves.toBe(true);
    await expect(verifyPassword(b, "same password here")).resolves.toBe(true);
  });

  it("says false (rather than throwing) for a missing account or a malformed hash", async () => {
    await expect(verifyPassword(null, "anything at all")).resolves.toBe(false);
    await expect(verifyPassword("not-a-hash", "anything at all")).resolves.toBe(false);
  });
});

describe("generatePassword", () => {
  it("is 20 characters in four groups of five, without look-alike characters", () => {
    for (let i = 0; i < 200; i++) {
      const p = generatePassword();
      expect(p).toMatch(/^[a-zA-Z2-9]{5}(-[a-zA-Z2-9]{5}){3}$/);
      expect(p).not.toMatch(/[01OlI]/);
    }
  });

  it("is different every time", () => {
    const seen = new Set(Array.from({ length: 1000 }, generatePassword));
    expect(seen.size).toBe(1000);
  });

  it("passes the password policy, so a generated password can be used as-is", () => {
    for (let i = 0; i < 50; i++) expect(ZPassword.safeParse(generatePassword()).success).toBe(true);
  });

  it("hashes and verifies like any other password", async () => {
    const p = generatePassword();
    await expect(verifyPassword(await hashPassword(p), p)).resolves.toBe(true);
  });
});
