import { describe, expect, it } from "vitest";
import { uploadIdFromUrl } from "./upload-protocol";

describe("uploadIdFromUrl", () => {
  const id = "0123456789abcdef0123456789abcdef";
  it("reads the id from absolute and relative upload URLs", () => {
    expect(uploadIdFromUrl(`https://releasegate.example.com/api/uploads/${id}`)).toBe(id);
    expect(uploadIdFromUrl(`/api/uploads/${id}`)).toBe(id);
  });
  it("refuses anything that is not an upload URL with a well-formed id", () => {
    for (const url of [`/api/uploads/${id.toUpperCase()}`, `/api/uploads/${id}x`, `/api/other/${id}`, "/api/uploads/", `/api/uploads/../${id}`, "not a url at all"]) {
      expect(uploadIdFromUrl(url), url).toBeNull();
    }
  });
});
