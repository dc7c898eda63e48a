import { describe, expect, it } from "vitest";
import { formDataToObject } from "./form-data";

describe("formDataToObject", () => {
  it("maps a name that appears once to its value", () => {
    const fd = new FormData();
    fd.set("name", "QA");
    fd.set("requiredApprovals", "2");
    expect(formDataToObject(fd)).toEqual({ name: "QA", requiredApprovals: "2" });
  });

  it("maps a repeated name (checkbox group, multi-select) to every value in order", () => {
    const fd = new FormData();
    fd.append("deployerRoles", "OPS");
    fd.append("name", "Production");
    fd.append("deployerRoles", "DEVELOPER");
    expect(formDataToObject(fd)).toEqual({ deployerRoles: ["OPS", "DEVELOPER"], name: "Production" });
  });

  it("keeps empty strings (zod decides what empty means)", () => {
    const fd = new FormData();
    fd.set("url", "");
    expect(formDataToObject(fd)).toEqual({ url: "" });
  });

  it("drops React's own $ACTION fields", () => {
    const fd = new FormData();
    fd.set("$ACTION_ID_abc123", "");
    fd.set("$ACTION_REF_1", "x");
    fd.set("email", "a@example.test");
    expect(formDataToObject(fd)).toEqual({ email: "a@example.test" });
  });

  it("keeps files as File objects", () => {
    const fd = new FormData();
    fd.set("artifact", new File(["hello"], "build.tar.gz", { type: "application/gzip" }));
    const out = formDataToObject(fd);
    expect(out.artifact).toBeInstanceOf(File);
    expect((out.artifact as File).name).toBe("build.tar.gz");
    expect((out.artifact as File).size).toBe(5);
  });

  it("returns an empty object for an empty form", () => {
    expect(formDataToObject(new FormData())).toEqual({});
  });
});
