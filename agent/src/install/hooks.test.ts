import { describe, expect, it } from "vitest";
import { hookEnvironment, type HookEnvironmentInput } from "./hooks";

const job: HookEnvironmentInput["job"] = {
  action: "ACTIVATE",
  deployment: { id: "5b0c2a57-3f57-4a39-9d0e-6f3f0c2f4c11", kind: "DEPLOY" },
  application: { id: "8d3c6a0e-1d39-4f0b-9d5e-0c6e0a3b7e21", name: "Shop", slug: "shop" },
  environment: { id: "0f9e1c2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f", name: "Production", slug: "production" },
  target: { id: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", name: "web-1" },
  release: {
    id: "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
    version: "2.3.0",
    sha256: "ab".repeat(32),
    size: 1234,
    fileName: "shop-2.3.0.tar.gz",
    downloadPath: "/api/agent/v1/artifacts/9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
    needsMigration: true,
  },
};

describe("hookEnvironment", () => {
  it("describes the install to the hook", () => {
    expect(
      hookEnvironment({ job, releaseDir: "/srv/shop/releases/2.3.0-abababababab", previousReleaseDir: "/srv/shop/releases/2.2.0-cdcdcdcdcdcd" }),
    ).toEqual({
      RELEASEGATE_RELEASE_ID: "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
      RELEASEGATE_RELEASE_VERSION: "2.3.0",
      RELEASEGATE_RELEASE_SHA256: "ab".repeat(32),
      RELEASEGATE_RELEASE_DIR: "/srv/shop/releases/2.3.0-abababababab",
      RELEASEGATE_PREVIOUS_RELEASE_DIR: "/srv/shop/releases/2.2.0-cdcdcdcdcdcd",
      RELEASEGATE_ENVIRONMENT: "production",
      RELEASEGATE_APPLICATION: "shop",
      RELEASEGATE_TARGET: "web-1",
      RELEASEGATE_DEPLOYMENT_ID: "5b0c2a57-3f57-4a39-9d0e-6f3f0c2f4c11",
      RELEASEGATE_ACTION: "ACTIVATE",
      RELEASEGATE_NEEDS_MIGRATION: "true",
    });
  });

  it("sets an empty previous directory on a first install and false when no migration is needed", () => {
    const env = hookEnvironment({
      job: { ...job, release: { ...job.release, needsMigration: false } },
      releaseDir: "/srv/shop/releases/x",
      previousReleaseDir: null,
    });
    expect(env.RELEASEGATE_PREVIOUS_RELEASE_DIR).toBe("");
    expect(env.RELEASEGATE_NEEDS_MIGRATION).toBe("false");
  });
});
