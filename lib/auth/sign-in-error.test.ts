import { describe, expect, it } from "vitest";
import { signInErrorFromUrl, signInErrorMessage } from "./sign-in-error";

describe("signInErrorMessage", () => {
  it("translates next-auth's codes into sentences", () => {
    expect(signInErrorMessage("CredentialsSignin")).toBe("Wrong email or password.");
    expect(signInErrorMessage("Configuration")).toMatch(/^Sign-in is not working because the server is misconfigured\./);
    expect(signInErrorMessage("SomethingNew")).toBe("Sign-in did not work. Try again; if it keeps failing, ask your administrator.");
    expect(signInErrorMessage(undefined)).toBe("Wrong email or password.");
    expect(signInErrorMessage("")).toBe("Wrong email or password.");
  });

  it("shows the server's own sentences as they are", () => {
    const m = "Too many failed sign-ins. Try again in 15 minutes.";
    expect(signInErrorMessage(m)).toBe(m);
  });
});

describe("signInErrorFromUrl", () => {
  it("takes only next-auth's codes from a link, never words of the link's own", () => {
    expect(signInErrorFromUrl("Configuration")).toMatch(/misconfigured/);
    expect(signInErrorFromUrl("Your account is locked, call +1 555 0100")).toBeUndefined();
    expect(signInErrorFromUrl("CredentialsSignin")).toBeUndefined();
    expect(signInErrorFromUrl(["Configuration", "x"])).toBeUndefined();
    expect(signInErrorFromUrl(undefined)).toBeUndefined();
  });
});
