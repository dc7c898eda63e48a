// The pipeline API (/api/v1) and the agents' artifact download, through the real route handlers as a client calls
// them: a token-holding pipeline uploads a build (streamed multipart), lists releases, deploys and polls; an agent
// downloads the build, resuming with Range.
import { createHash, randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Before any module reads the environment: this file's artifacts go to a directory of its own, with a small limit.
const ARTIFACT_DIR = vi.hoisted(() => {
  const dir = `${process.env.TMPDIR ?? "/tmp"}/releasegate-api-test-${process.pid}-${Date.now()}`;
  process.env.ARTIFACT_DIR = dir;
  process.env.MAX_ARTIFACT_BYTES = String(8 * 1024 * 1024);
  return dir;
});

import { POST as deployRoute } from "../../app/api/v1/applications/[applicationId]/deployments/route";
import { GET as listRoute, POST as uploadRoute } from "../../app/api/v1/applications/[applicationId]/releases/route";
import { GET as deploymentRoute } from "../../app/api/v1/deployments/[deploymentId]/route";
import { type AgentApiServer, startAgentApiServer } from "../../test/agent-api-server";
import { drive, release as releaseOf, simulatedFleet } from "../../test/simulated-fleet";
import { createMember, createTenant, environmentsOf, testContext, uniq } from "../../test/factories";
import { authenticateAgent } from "../agents/authenticate-agent";
import { enrollAgent } from "../agents/enroll-agent";
import { recordHeartbeat } from "../agents/record-heartbeat";
import { AGENT_API_PATHS } from "../contracts/agent-api";
import { createApiToken, ZCreateApiTokenRequestSchema } from "../api-tokens/create-api-token";
import { revokeApiToken } from "../api-tokens/revoke-api-token";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { addTarget } from "../targets/add-target";

type Tenant = Awaited<ReturnType<typeof createTenant>>;
let tenant: Tenant;
let dev: UserActor;
let token: string;
let agentApi: AgentApiServer;

beforeAll(async () => {
  agentApi = await startAgentApiServer();
  tenant = await createTenant();
  dev = await createMember(tenant, "DEVELOPER");
  token = await newToken(tenant, dev, ["DEVELOPER"]);
});
afterAll(async () => {
  await agentApi.close();
  await rm(ARTIFACT_DIR, { recursive: true, force: true });
});

async function newToken(t: Tenant, creator: UserActor, roles: string[]): Promise<string> {
  const { plaintext } = await createApiToken(creator, ZCreateApiTokenRequestSchema.parse({ applicationId: t.application.id, name: uniq("ci"), roles }));
  return plaintext;
}

const sha = (b: Buffer | Uint8Array) => createHash("sha256").update(b).digest("hex");
const base = "http://localhost/api/v1/applications";
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const appParams = (applicationId: string) => ({ params: Promise.resolve({ applicationId }) });
type ErrorJson = { error: { code: string; message: string } };
type ReleaseJson = { id: string; version: string; sha256: string; size: number; fileName: string; uploadedViaToken: boolean };

/** Uploads with a FormData body, parts in the order given (file parts as [name, bytes, fileName]). */
function upload(parts: ([string, string] | [string, Buffer, string])[], options: { token?: string; applicationId?: string; headers?: Record<string, string> } = {}) {
  const form = new FormData();
  for (const p of parts) {
    if (p.length === 3) form.append(p[0], new File([new Uint8Array(p[1])], p[2]));
    else form.append(p[0], p[1]);
  }
  const applicationId = options.applicationId ?? tenant.application.id;
  const headers = { ...bearer(options.token ?? token), ...options.headers };
  return uploadRoute(new Request(`${base}/${applicationId}/releases`, { method: "POST", headers, body: form }), appParams(applicationId));
}

/**
 * A multipart body produced on demand: the fields, then a file part of `size` bytes generated as the reader pulls.
 * `state.pulled` tells how much of the file the server actually read.
 */
function streamedUpload(fields: Record<string, string>, size: number) {
  const boundary = `----releasegate${randomBytes(8).toString("hex")}`;
  const head = Buffer.from(
    Object.entries(fields)
      .map(([k, v]) => `--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join("") + `--${boundary}\r\ncontent-disposition: form-data; name="artifact"; filename="big.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const state = { pulled: 0 };
  const chunk = randomBytes(64 * 1024);
  let sentHead = false;
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sentHead) {
        sentHead = true;
        controller.enqueue(new Uint8Array(head));
      } else if (state.pulled < size) {
        const n = Math.min(chunk.length, size - state.pulled);
        state.pulled += n;
        controller.enqueue(new Uint8Array(chunk.subarray(0, n)));
      } else if (!done) {
        done = true;
        controller.enqueue(new Uint8Array(tail));
        controller.close();
      }
    },
  });
  const request = new Request(`${base}/${tenant.application.id}/releases`, {
    method: "POST",
    headers: { ...bearer(token), "content-type": `multipart/form-data; boundary=${boundary}` },
    body,
    duplex: "half",
  } as RequestInit);
  return { request, state };
}

const storedFiles = async () => (await readdir(path.join(ARTIFACT_DIR, "sha256"), { recursive: true }).catch(() => [] as string[])).filter((f) => /[0-9a-f]{64}$/.test(f)).map((f) => path.basename(f));

describe("POST /api/v1/applications/:id/releases", () => {
  it("streams a multipart upload into a new release: 201 with its digest and size", async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const version = uniq("1.4.0");
    const res = await upload([
      ["version", version],
      ["notes", "Faster checkout"],
      ["needsMigration", "true"],
      ["migrationInstructions", "npm run migrate"],
      ["sha256", sha(bytes).toUpperCase()],
      ["artifact", bytes, "build-1.4.0.tar.gz"],
    ]);
    expect(res.status).toBe(201);
    const { release } = (await res.json()) as { release: ReleaseJson };
    expect(release).toMatchObject({ version, sha256: sha(bytes), size: bytes.length, fileName: "build-1.4.0.tar.gz", uploadedViaToken: true });
    const row = await db.release.findUniqueOrThrow({ where: { id: release.id } });
    expect(row).toMatchObject({ needsMigration: true, notes: "Faster checkout", migrationInstructions: "npm run migrate", uploadedById: dev.id });
    expect(await storedFiles()).toContain(sha(bytes));

    const list = await listRoute(new Request(`${base}/${tenant.application.id}/releases?limit=5`, { headers: bearer(token) }), appParams(tenant.application.id));
    expect(list.status).toBe(200);
    const { releases } = (await list.json()) as { releases: ReleaseJson[] };
    expect(releases[0]).toMatchObject({ id: release.id, version, sha256: sha(bytes) });
  });

  it("accepts the file before its fields (curl -F artifact=@… -F version=…), and checks the digest at the end", async () => {
    const bytes = randomBytes(10_000);
    const res = await upload([
      ["artifact", bytes, "app.zip"],
      ["version", uniq("1.5.0")],
      ["sha256", sha(bytes)],
    ]);
    expect(res.status).toBe(201);

    const other = randomBytes(10_000);
    const declared = sha(randomBytes(1));
    const version = uniq("1.5.1");
    const bad = await upload([
      ["artifact", other, "app.zip"],
      ["version", version],
      ["sha256", declared],
    ]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorJson).error.message).toContain(`expected ${declared}, received ${sha(other)}`);
    expect(await storedFiles()).not.toContain(sha(other));
    expect(await db.release.count({ where: { version } })).toBe(0);
  });

  it("refuses a declared digest that differs from the bytes: 400 with both digests, nothing stored", async () => {
    const bytes = randomBytes(50_000);
    const declared = sha(Buffer.from("something else"));
    const version = uniq("2.0.0");
    const res = await upload([
      ["version", version],
      ["sha256", declared],
      ["artifact", bytes, "build.tar.gz"],
    ]);
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorJson;
    expect(body.error).toMatchObject({ code: "INVALID_INPUT" });
    expect(body.error.message).toBe(`The artifact's SHA-256 does not match the declared one: expected ${declared}, received ${sha(bytes)}.`);
    expect(await storedFiles()).not.toContain(sha(bytes));
    expect(await db.release.count({ where: { applicationId: tenant.application.id, version } })).toBe(0);
  });

  it("checks fields sent before the file without reading the file: a bad version costs the client nothing", async () => {
    const { request, state } = streamedUpload({ version: "not a version!" }, 50 * 1024 * 1024);
    const res = await uploadRoute(request, appParams(tenant.application.id));
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorJson).error.message).toMatch(/^version: Use letters, digits/);
    expect(state.pulled).toBeLessThan(1024 * 1024);
    expect(res.headers.get("connection")).toBe("close");
  });

  it("refuses a duplicate version before the file is read", async () => {
    const version = uniq("3.0.0");
    expect((await upload([["version", version], ["artifact", randomBytes(100), "a.tgz"]])).status).toBe(201);
    const { request, state } = streamedUpload({ version }, 50 * 1024 * 1024);
    const res = await uploadRoute(request, appParams(tenant.application.id));
    expect(res.status).toBe(409);
    expect(((await res.json()) as ErrorJson).error.message).toBe(`Version ${version} already exists for ${tenant.application.name}.`);
    expect(state.pulled).toBeLessThan(1024 * 1024);
  });

  it("stops an artifact over MAX_ARTIFACT_BYTES at the limit: 413, nothing stored", async () => {
    const { request, state } = streamedUpload({ version: uniq("4.0.0") }, 40 * 1024 * 1024);
    const res = await uploadRoute(request, appParams(tenant.application.id));
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorJson).error.message).toBe("The artifact is larger than the limit of 8 MiB.");
    expect(state.pulled).toBeLessThan(12 * 1024 * 1024);
    expect((await readdir(path.join(ARTIFACT_DIR, "tmp"))).filter((f) => f.endsWith(".part"))).toEqual([]);

    // A Content-Length over the limit is refused before reading anything.
    const declared = await upload([["version", "4.0.1"], ["artifact", randomBytes(10), "a"]], { headers: { "content-length": String(20 * 1024 * 1024) } });
    expect(declared.status).toBe(413);
  });

  it("explains malformed uploads with a 400", async () => {
    const cases: [([string, string] | [string, Buffer, string])[], RegExp][] = [
      [[["version", "1.0.0"]], /Attach the build as the file field artifact/],
      [[["version", "1.0.0"], ["artifact", "not a file"]], /Send artifact as a file: curl -F artifact=@build.tar.gz/],
      [[["version", "1.0.0"], ["sha", "abc"], ["artifact", randomBytes(10), "a"]], /Unknown field "sha"/],
      [[["version", "1.0.0"], ["build", randomBytes(10), "a"]], /Unknown file field "build"/],
      [[["version", "1.0.0"], ["sha256", "xyz"], ["artifact", randomBytes(10), "a"]], /^sha256|64 hexadecimal digits/],
      [[["artifact", randomBytes(10), "a"]], /^version: /],
      [[["version", "1.0.0"], ["artifact", randomBytes(10), "a"], ["artifact", randomBytes(10), "b"]], /Send at most 1 file/],
      [[["version", "1.0.0"], ["version", "1.0.1"], ["artifact", randomBytes(10), "a"]], /The field version was sent twice/],
      // Found wanting only after the file was stored:
      [[["artifact", randomBytes(10), "a"], ["version", "1.0.0"], ["bogus", "x"]], /Unknown field "bogus"/],
      [[["version", uniq("1.0.0")], ["artifact", randomBytes(10), "a"], ["notes", "x".repeat(20_001)]], /^notes: Release notes are limited to 20,000 characters/],
    ];
    const before = await storedFiles();
    for (const [parts, message] of cases) {
      const res = await upload(parts);
      expect(res.status, String(message)).toBe(400);
      expect(((await res.json()) as ErrorJson).error.message).toMatch(message);
    }
    // Files stored before the request was found wanting are gone again.
    expect(await storedFiles()).toEqual(before);
    const json = await uploadRoute(
      new Request(`${base}/${tenant.application.id}/releases`, { method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: "{}" }),
      appParams(tenant.application.id),
    );
    expect(json.status).toBe(400);
    expect(((await json.json()) as ErrorJson).error.message).toMatch(/multipart\/form-data/);
  });

  it("takes only an API token: a session cookie, an agent secret or nothing is 401 with a JSON message", async () => {
    const attempts: Record<string, string>[] = [{ cookie: "next-auth.session-token=abc" }, { authorization: `Bearer rga_${"a".repeat(43)}` }, {}];
    for (const headers of attempts) {
      const res = await listRoute(new Request(`${base}/${tenant.application.id}/releases`, { headers }), appParams(tenant.application.id));
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorJson).error).toMatchObject({ code: "UNAUTHENTICATED", message: expect.stringMatching(/API token/) });
    }
  });

  it("a token reaches only its own application (404 elsewhere), and a revoked token is refused at once", async () => {
    const other = await createTenant();
    const res = await listRoute(new Request(`${base}/${other.application.id}/releases`, { headers: bearer(token) }), appParams(other.application.id));
    expect(res.status).toBe(404);
    const malformed = await listRoute(new Request(`${base}/nope/releases`, { headers: bearer(token) }), appParams("nope"));
    expect(malformed.status).toBe(404);

    const { plaintext, token: row } = await createApiToken(dev, ZCreateApiTokenRequestSchema.parse({ applicationId: tenant.application.id, name: uniq("ci"), roles: ["DEVELOPER"] }));
    expect((await listRoute(new Request(`${base}/${tenant.application.id}/releases`, { headers: bearer(plaintext) }), appParams(tenant.application.id))).status).toBe(200);
    await revokeApiToken(dev, { tokenId: row.id });
    const revoked = await listRoute(new Request(`${base}/${tenant.application.id}/releases`, { headers: bearer(plaintext) }), appParams(tenant.application.id));
    expect(revoked.status).toBe(401);
  });

  it("a token without the developer role may read but not upload; the refusal is audited as the token", async () => {
    const ops = await createMember(tenant, "OPS");
    const opsToken = await newToken(tenant, ops, ["OPS"]);
    const requestId = `deny-${randomBytes(4).toString("hex")}`;
    const res = await upload([["version", uniq("5.0.0")], ["artifact", randomBytes(10), "a"]], { token: opsToken, headers: { "x-request-id": requestId } });
    expect(res.status).toBe(403);
    const events = await db.auditEvent.findMany({ where: { requestId } });
    expect(events.map((e) => [e.type, e.actorType])).toEqual([["PERMISSION_DENIED", "API_TOKEN"]]);
    expect(events[0]!.objectId).toBe(`POST /api/v1/applications/${tenant.application.id}/releases`);
  });
});

describe("GET /api/agent/v1/artifacts/:releaseId", () => {
  let bytes: Buffer;
  let releaseId: string;
  let agentSecret: string;

  beforeAll(async () => {
    bytes = randomBytes(1024 * 1024 + 3);
    const res = await upload([["version", uniq("6.0.0")], ["artifact", bytes, "site.tar.gz"]]);
    releaseId = ((await res.json()) as { release: ReleaseJson }).release.id;
    agentSecret = await enrolledAgent(tenant);
  });

  async function enrolledAgent(t: Tenant): Promise<string> {
    const ops = await createMember(t, "OPS");
    const [qa] = await environmentsOf(t.application.id);
    const { enrollmentToken } = await addTarget(ops, { environmentId: qa!.id, name: uniq("web") });
    return (await enrollAgent({ token: enrollmentToken, hostname: "web", agentVersion: "1.0.0" }, testContext())).agentSecret;
  }

  const download = (id: string, headers: Record<string, string> = {}, secret = agentSecret) =>
    fetch(`${agentApi.url}${AGENT_API_PATHS.artifact(id)}`, { headers: { ...bearer(secret), ...headers } });

  it("streams the whole artifact with its length, ETag and digest", async () => {
    const res = await download(releaseId);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(bytes.length));
    expect(res.headers.get("etag")).toBe(`"${sha(bytes)}"`);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("content-disposition")).toContain('filename="site.tar.gz"');
    expect(sha(new Uint8Array(await res.arrayBuffer()))).toBe(sha(bytes));
  });

  it("resumes with Range: 206 with Content-Range, and 416 past the end", async () => {
    const from = await download(releaseId, { range: "bytes=1000000-" });
    expect(from.status).toBe(206);
    expect(from.headers.get("content-range")).toBe(`bytes 1000000-${bytes.length - 1}/${bytes.length}`);
    expect(from.headers.get("content-length")).toBe(String(bytes.length - 1_000_000));
    expect(Buffer.from(await from.arrayBuffer())).toEqual(bytes.subarray(1_000_000));

    const slice = await download(releaseId, { range: "bytes=10-19" });
    expect(slice.status).toBe(206);
    expect(Buffer.from(await slice.arrayBuffer())).toEqual(bytes.subarray(10, 20));

    const past = await download(releaseId, { range: `bytes=${bytes.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${bytes.length}`);

    const stale = await download(releaseId, { range: "bytes=10-", "if-range": `"${"0".repeat(64)}"` });
    expect(stale.status).toBe(200);
    await stale.body?.cancel();
  });

  it("answers HEAD with the headers only", async () => {
    const res = await fetch(`${agentApi.url}${AGENT_API_PATHS.artifact(releaseId)}`, { method: "HEAD", headers: bearer(agentSecret) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(bytes.length));
    expect(res.body).toBeNull();
  });

  it("is 404 to an agent of another application, and 401 without an agent secret", async () => {
    const other = await createTenant();
    const foreign = await download(releaseId, {}, await enrolledAgent(other));
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect((await download("not-a-uuid")).status).toBe(404);
    const pipeline = await download(releaseId, {}, token);
    expect(pipeline.status).toBe(401);
  });
});

describe("deploying through the API", () => {
  it("deploys a release by version to an environment by slug, then reports its status", async () => {
    const t = await createTenant();
    const ops = await createMember(t, "OPS");
    const developer = await createMember(t, "DEVELOPER");
    const pipeline = await newToken(t, developer, ["DEVELOPER"]);
    const [qa] = await environmentsOf(t.application.id);
    const { enrollmentToken } = await addTarget(ops, { environmentId: qa!.id, name: "qa-1" });
    const { agentSecret } = await enrollAgent({ token: enrollmentToken, hostname: "qa-1", agentVersion: "1.0.0" }, testContext());
    await recordHeartbeat(await authenticateAgent(`Bearer ${agentSecret}`, testContext()), { agentVersion: "1.0.0", hostname: "qa-1", liveReleaseId: null, stagedReleaseIds: [] });
    const version = uniq("7.0.0");
    const uploaded = await upload([["version", version], ["artifact", randomBytes(1000), "a.tgz"]], { token: pipeline, applicationId: t.application.id });
    expect(uploaded.status).toBe(201);

    const deploy = (body: unknown, secret = pipeline) =>
      deployRoute(
        new Request(`${base}/${t.application.id}/deployments`, { method: "POST", headers: { ...bearer(secret), "content-type": "application/json" }, body: JSON.stringify(body) }),
        appParams(t.application.id),
      );
    const unknownEnv = await deploy({ environment: "staging", release: version });
    expect(unknownEnv.status).toBe(404);
    expect(((await unknownEnv.json()) as ErrorJson).error.message).toBe(`${t.application.name} has no environment "staging". Its environments are qa, acceptance, production.`);
    expect((await deploy({ environment: "qa", release: "0.0.0-nope" })).status).toBe(404);
    expect((await deploy({ environment: "qa" })).status).toBe(400);
    const production = await deploy({ environment: "Production", release: version });
    expect([403, 412]).toContain(production.status);

    const res = await deploy({ environment: "qa", release: version, reason: "CI build 812" });
    expect(res.status).toBe(201);
    const { deployment } = (await res.json()) as { deployment: { id: string; status: string; url: string } };
    expect(deployment.url).toBe(`/api/v1/deployments/${deployment.id}`);

    const poll = (secret: string) =>
      deploymentRoute(new Request(`http://localhost${deployment.url}`, { headers: bearer(secret) }), { params: Promise.resolve({ deploymentId: deployment.id }) });
    const status = await poll(pipeline);
    expect(status.status).toBe(200);
    const body = (await status.json()) as { deployment: { status: string; finished: boolean; release: { version: string }; environment: { slug: string }; reason: string; steps: { total: number } } };
    expect(body.deployment).toMatchObject({ release: { version }, environment: { slug: "qa" }, reason: "CI build 812", finished: false });
    expect(["QUEUED", "RUNNING"]).toContain(body.deployment.status);
    expect(body.deployment.steps.total).toBeGreaterThanOrEqual(0);

    // Another tenant's pipeline cannot see it.
    expect((await poll(token)).status).toBe(404);

    // A pipeline may schedule one for a maintenance window; the time is judged as in the UI.
    expect((await deploy({ environment: "acceptance", release: version, scheduledFor: "tonight" })).status).toBe(400);
    const past = await deploy({ environment: "acceptance", release: version, scheduledFor: "2020-01-01T22:00:00+01:00" });
    expect(past.status).toBe(400);
    expect(((await past.json()) as ErrorJson).error.message).toBe("scheduledFor: That time has passed: pick a time in the future.");
  });
});

describe("waiting for a deployment through the API (?wait=N)", () => {
  type StatusJson = { deployment: { status: string; finished: boolean } };
  const poll = (id: string, secret: string, query = "") =>
    deploymentRoute(new Request(`http://localhost/api/v1/deployments/${id}${query}`, { headers: bearer(secret) }), { params: Promise.resolve({ deploymentId: id }) });

  it("answers when the deployment ends, in one request: a pipeline needs no polling loop", async () => {
    const f = await simulatedFleet(2);
    const rel = await releaseOf(f);
    const pipeline = await newToken(f.tenant, f.ops, ["OPS"]);
    const res = await deployRoute(
      new Request(`${base}/${f.tenant.application.id}/deployments`, { method: "POST", headers: { ...bearer(pipeline), "content-type": "application/json" }, body: JSON.stringify({ environment: "production", release: rel.version }) }),
      appParams(f.tenant.application.id),
    );
    expect(res.status).toBe(201);
    const { deployment } = (await res.json()) as { deployment: { id: string } };

    // Nothing happens within the wait: the answer comes when it is up, with the status at that moment.
    const unchanged = (await (await poll(deployment.id, pipeline, "?wait=1")).json()) as StatusJson;
    expect(unchanged.deployment.finished).toBe(false);

    let answered: StatusJson | null = null;
    const waiting = poll(deployment.id, pipeline, "?wait=30").then(async (r) => (answered = (await r.json()) as StatusJson));
    await new Promise((r) => setTimeout(r, 500));
    expect(answered, "still waiting while the rollout runs").toBeNull();
    await drive(f, deployment.id);
    expect((await waiting).deployment).toMatchObject({ status: "SUCCEEDED", finished: true });

    // A finished deployment answers at once, whatever the wait.
    expect(((await (await poll(deployment.id, pipeline, "?wait=50")).json()) as StatusJson).deployment.status).toBe("SUCCEEDED");
    // Another tenant's token learns nothing, and is not kept waiting.
    expect((await poll(deployment.id, token, "?wait=50")).status).toBe(404);
  });

  it("refuses a wait longer than a proxy would hold the request, with the reason", async () => {
    const id = "00000000-0000-4000-8000-000000000000";
    const tooLong = await poll(id, token, "?wait=600");
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as ErrorJson).error.message).toBe("wait: At most 50 seconds per request (proxies cut longer ones); ask again to wait longer.");
    expect((await poll(id, token, "?wait=soon")).status).toBe(400);
  });
});
