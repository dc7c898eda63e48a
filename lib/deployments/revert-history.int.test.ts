// Which release a revert returns to, after every path: redeploys of the live release, repeated reverts, a release
// deployed again after another. Real PostgreSQL, the real engine, agents simulated through the domain functions.
import { describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { drive, type Fleet, release, simulatedFleet } from "../../test/simulated-fleet";
import { deployOptions } from "./deploy-options";
import { requestDeployment } from "./request-deployment";
import { requestRevert } from "./request-revert";
import { db } from "../db/client";

async function deploy(f: Fleet, releaseId: string) {
  const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId });
  const { deployment: done } = await drive(f, deployment.id);
  expect(done.status).toBe("SUCCEEDED");
  return done;
}

/** Reverts, checks the release it went to, and returns the deployment. */
async function revert(f: Fleet, expectedVersion: string) {
  const options = await deployOptions(f.ops, { environmentId: f.environmentId });
  expect(options.revert?.version).toBe(expectedVersion);
  const { deployment } = await requestRevert(f.ops, { environmentId: f.environmentId, reason: `back to ${expectedVersion}` });
  const { deployment: done, ran } = await drive(f, deployment.id);
  expect(done.status).toBe("SUCCEEDED");
  expect(new Set(ran.filter((j) => j.action === "ACTIVATE").map((j) => j.version))).toEqual(new Set([expectedVersion]));
  return done;
}

const runs = async (f: Fleet) => new Set((await db.target.findMany({ where: { environmentId: f.environmentId }, include: { liveRelease: true } })).map((t) => t.liveRelease?.version));

describe("revert", () => {
  it("redeploying the live release does not make it its own predecessor: a revert still reaches the one before", async () => {
    const f = await simulatedFleet(2);
    const [a, b] = [await release(f, "1.0.0"), await release(f, "2.0.0")];
    await deploy(f, a.id);
    await deploy(f, b.id);
    const again = await deploy(f, b.id);
    // What a failure of the redeploy would have rolled back to: what the servers ran, 2.0.0 itself.
    expect(again.previousReleaseId).toBe(b.id);
    await revert(f, "1.0.0");
    expect(await runs(f)).toEqual(new Set(["1.0.0"]));
  });

  it("walks back the history of what ran, one release per revert, until there is nothing earlier", async () => {
    const f = await simulatedFleet(2);
    const [a, b, c] = [await release(f, "1.0.0"), await release(f, "2.0.0"), await release(f, "3.0.0")];
    await deploy(f, a.id);
    await deploy(f, b.id);
    await deploy(f, c.id);
    const toB = await revert(f, "2.0.0");
    // A revert that fails part-way rolls its servers back to what they ran: the release it reverted from.
    expect(toB.previousReleaseId).toBe(c.id);
    await revert(f, "1.0.0");
    expect(await runs(f)).toEqual(new Set(["1.0.0"]));
    expect((await deployOptions(f.ops, { environmentId: f.environmentId })).revert).toBeNull();
    await expectAppError(requestRevert(f.ops, { environmentId: f.environmentId, reason: "further" }), "PRECONDITION_FAILED", "Production has no earlier release to return to.");
  });

  it("returns to what actually ran before, also when an older release was deployed again", async () => {
    const f = await simulatedFleet(1);
    const [a, b] = [await release(f, "1.0.0"), await release(f, "2.0.0")];
    await deploy(f, a.id);
    await deploy(f, b.id);
    await deploy(f, a.id); // forward to the old build: the history is 1.0.0, 2.0.0, 1.0.0
    await revert(f, "2.0.0");
    await revert(f, "1.0.0");
  });

  it("after a revert and a new deployment, a revert returns to the release the revert left running", async () => {
    const f = await simulatedFleet(1);
    const [a, b, c] = [await release(f, "1.0.0"), await release(f, "2.0.0"), await release(f, "3.0.0")];
    await deploy(f, a.id);
    await deploy(f, b.id);
    await revert(f, "1.0.0");
    await deploy(f, c.id);
    await revert(f, "1.0.0");
    expect((await deployOptions(f.ops, { environmentId: f.environmentId })).revert).toBeNull();
  });

  it("a failed deployment leaves the history as it was", async () => {
    const f = await simulatedFleet(2);
    const [a, b, c] = [await release(f, "1.0.0"), await release(f, "2.0.0"), await release(f, "3.0.0")];
    await deploy(f, a.id);
    await deploy(f, b.id);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: c.id });
    const { deployment: failed } = await drive(f, deployment.id, (job) => (job.action === "ACTIVATE" && job.target.name === "web-2" ? "FAILED" : "SUCCEEDED"));
    expect(failed.status).toBe("FAILED");
    await revert(f, "1.0.0");
  });
});
