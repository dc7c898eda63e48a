// The real-parts fleet for e2e specs: HAProxy + sample-app nodes + real agents (the bundled agent) enrolled against
// the control plane under test, seeded through the domain layer (scripts/seed-fleet.ts) in the e2e database.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { APIRequestContext } from "@playwright/test";
import * as tar from "tar";
import type { SeededFleet } from "../../scripts/lib/seed-fleet";
import { type Fleet, startFleet, startFleetHaproxy, waitFor } from "../../test/support/fleet";
import { freePort, haproxyAvailable } from "../../test/support/haproxy";
import { buildSampleArtifact, type SampleArtifact, writeSampleRelease } from "../../test/support/sample-artifact";

const exec = promisify(execFile);

export interface E2EFleet {
  seeded: SeededFleet;
  fleet: Fleet;
  /** HAProxy's frontend: where the site's visitors go. */
  siteUrl: string;
  workDir: string;
  stop(): Promise<void>;
}

/** Production starts open to ops alone (no acceptance or approval gates): e2e/release-procedure.spec.ts turns them on. */
export async function startE2EFleet(baseURL: string, name: string): Promise<E2EFleet> {
  if (!(await haproxyAvailable())) throw new Error("HAProxy is required for this test: apt-get install haproxy (.ci/run installs it).");
  const databaseUrl = process.env.E2E_DATABASE_URL;
  if (!databaseUrl) throw new Error("E2E_DATABASE_URL is not set: run the e2e tests through `npm test` or `npm run test:e2e`.");
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), `rg-fleet-${name}-`));
  const ports = { qa: await freePort(), acceptance: await freePort(), production: [await freePort(), await freePort(), await freePort()] };
  const haproxy = await startFleetHaproxy(ports.production.map((port, i) => ({ name: `web-${i + 1}`, port })));
  try {
    const tag = `${name}-${Date.now().toString(36)}`;
    const seedOptions = {
      customerName: `Fleet ${tag}`,
      applicationName: `Shop ${tag}`,
      password: "fleet-password-123",
      ports,
      haproxy: { url: haproxy.url, adminAddress: haproxy.adminAddress, backend: haproxy.backend },
      gates: false,
      emailDomain: `${tag}.example.test`,
    };
    const { stdout } = await exec(process.execPath, ["--conditions=react-server", "--import", "tsx", "scripts/seed-fleet.ts", JSON.stringify(seedOptions)], {
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: "silent" },
      maxBuffer: 1 << 20,
    });
    const seeded = JSON.parse(stdout.trim().split("\n").at(-1)!) as SeededFleet;
    const fleet = await startFleet({ server: baseURL, workDir, haproxy, nodes: seeded.nodes.map((n) => ({ name: n.name, token: n.token, port: n.port, balanced: n.balanced })) });
    // Online = the agent heartbeated and is long-polling (it logs that once, after its first heartbeat).
    for (const a of fleet.agents) await waitFor(`${a.name}'s agent to connect`, async () => (await fs.readFile(a.logFile, "utf8").catch(() => "")).includes("waiting for work"));
    return { seeded, fleet, siteUrl: haproxy.url, workDir, stop: () => fleet.stop() };
  } catch (err) {
    await haproxy.stop();
    throw err;
  }
}

/**
 * The sample app as `version`, padded with an incompressible file to about `size` bytes: a build the size of a real
 * one that the fleet's agents really download, verify, extract and run. Returns the archive, its size and SHA-256.
 */
export async function buildLargeSampleArtifact(f: E2EFleet, version: string, size: number): Promise<SampleArtifact> {
  const staging = await fs.mkdtemp(path.join(f.workDir, `large-${version}-`));
  try {
    await writeSampleRelease(staging, version);
    const assets = await fs.open(path.join(staging, "assets.bin"), "w");
    try {
      for (let written = 0; written < size; written += 4 << 20) await assets.write(randomBytes(Math.min(4 << 20, size - written)));
    } finally {
      await assets.close();
    }
    const file = path.join(f.workDir, "artifacts", `shop-${version}.tar.gz`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await tar.create({ gzip: { level: 1 }, file, cwd: staging, portable: true }, (await fs.readdir(staging)).sort());
    const data = await fs.readFile(file);
    return { file, size: data.length, sha256: createHash("sha256").update(data).digest("hex") };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

/** Builds the sample app as `version` and uploads it through the pipeline API; returns the release. */
export async function uploadSampleRelease(request: APIRequestContext, f: E2EFleet, version: string, options: { brokenHealth?: boolean; failOneIn?: number } = {}) {
  const file = path.join(f.workDir, "artifacts", `sample-${version}.tar.gz`);
  const artifact = await buildSampleArtifact(version, file, { brokenHealth: options.brokenHealth ?? false, ...(options.failOneIn ? { failOneIn: options.failOneIn } : {}) });
  const res = await request.post(`/api/v1/applications/${f.seeded.applicationId}/releases`, {
    headers: { authorization: `Bearer ${f.seeded.apiToken}` },
    multipart: {
      version,
      notes: `Sample app ${version}`,
      sha256: artifact.sha256,
      artifact: { name: path.basename(file), mimeType: "application/gzip", buffer: await fs.readFile(file) },
    },
  });
  if (res.status() !== 201) throw new Error(`upload of ${version} failed: ${res.status()} ${await res.text()}`);
  return ((await res.json()) as { release: { id: string; version: string; sha256: string } }).release;
}

export interface DeploymentStatus {
  id: string;
  status: string;
  finished: boolean;
  failureReason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  steps: { items: { server: string; action: string; status: string; phase: string | null; message: string | null }[] };
}

/** Requests a deployment through the pipeline API. */
export async function deployViaApi(request: APIRequestContext, f: E2EFleet, environment: string, version: string): Promise<string> {
  const res = await request.post(`/api/v1/applications/${f.seeded.applicationId}/deployments`, {
    headers: { authorization: `Bearer ${f.seeded.apiToken}` },
    data: { environment, release: version },
  });
  if (res.status() !== 201) throw new Error(`deploy of ${version} to ${environment} failed: ${res.status()} ${await res.text()}`);
  return ((await res.json()) as { deployment: { id: string } }).deployment.id;
}

export async function deploymentStatus(request: APIRequestContext, f: E2EFleet, id: string): Promise<DeploymentStatus> {
  const res = await request.get(`/api/v1/deployments/${id}`, { headers: { authorization: `Bearer ${f.seeded.apiToken}` } });
  if (!res.ok()) throw new Error(`deployment ${id}: ${res.status()} ${await res.text()}`);
  return ((await res.json()) as { deployment: DeploymentStatus }).deployment;
}

export async function waitForDeployment(request: APIRequestContext, f: E2EFleet, id: string, timeoutMs = 45_000): Promise<DeploymentStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await deploymentStatus(request, f, id);
    if (d.finished) return d;
    if (Date.now() > deadline) throw new Error(`deployment ${id} still ${d.status} after ${timeoutMs} ms: ${JSON.stringify(d.steps.items)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What each node serves, asked directly (not through HAProxy). */
export async function nodeVersions(f: E2EFleet, environment: "production" | "qa" | "acceptance" = "production"): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of f.seeded.nodes.filter((x) => x.environment === environment)) {
    const res = await fetch(`http://127.0.0.1:${n.port}/version`).catch(() => null);
    out[n.name] = res?.ok ? ((await res.json()) as { version: string }).version : `down${res ? ` (${res.status})` : ""}`;
  }
  return out;
}
