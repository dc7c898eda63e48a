// An auditor reads the record of exactly their application, filters it and exports it; their complete export, like
// an administrator's, verifies offline with nothing but the public key, through the same command the README gives
// auditors, and holds nothing of another tenant but sequence numbers and hashes. A refused attempt on a release
// shows on its evidence page.
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import {
  addServer,
  createApplication,
  createCustomer,
  createRelease,
  expect,
  keepOnline,
  setProductionGates,
  signedInMember,
  SimulatedAgent,
  test,
  uniq,
} from "./fixtures";
import { captureAction, replayAction, screenshot } from "./support/decisions";

const run = promisify(execFile);

/** `npm run audit:verify` on an export, with the public key the control plane serves; exit code and output. */
async function verifyExport(page: import("@playwright/test").Page, text: string): Promise<{ code: number; out: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "releasegate-e2e-audit-"));
  const keyFile = path.join(dir, "public.pem");
  const key = await page.request.get("/audit/public-key");
  expect(key.status()).toBe(200);
  await writeFile(keyFile, await key.text());
  const exportFile = path.join(dir, "audit.ndjson");
  await writeFile(exportFile, text);
  return run("npx", ["--no-install", "tsx", "scripts/audit-verify.ts", "--public-key", keyFile, "--export", exportFile]).then(
    ({ stdout }) => ({ code: 0, out: stdout }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: `${e.stdout}${e.stderr}` }),
  );
}

test("an auditor sees, filters and exports only their application's record", async ({ adminPage: admin, tenant, newBrowserPage }) => {
  const { page, person: auditor } = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Audrey", last: "Auditor", role: "Auditor" });
  // Another tenant's activity, which the auditor must never see.
  const otherCustomer = uniq("Other");
  await createCustomer(admin, otherCustomer);
  const otherApp = uniq("Hidden app");
  await createApplication(admin, otherCustomer, otherApp);
  await page.reload();
  await page.getByRole("link", { name: "Audit", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Audit record" })).toBeVisible();
  const table = page.getByTestId("audit-table");
  await expect(table).toContainText(`granted AUDITOR on ${tenant.application} to ${auditor.email}`);
  await expect(table).toContainText(`created application ${tenant.application}`);
  await expect(table).not.toContainText(otherApp);

  await page.getByLabel("Event type").selectOption("ROLE_GRANTED");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/type=ROLE_GRANTED/);
  const types = await table.locator("tbody tr").getByText(/^[A-Z_]+$/).allTextContents();
  expect(types.length).toBeGreaterThan(0);
  expect(new Set(types)).toEqual(new Set(["ROLE_GRANTED"]));

  // With a filter the exports follow it and say so.
  await expect(page.getByRole("link", { name: "Export NDJSON (filtered)" })).toBeVisible();
  const filtered = await page.request.get("/audit/export?format=ndjson&type=ROLE_GRANTED");
  expect(JSON.parse((await filtered.text()).split("\n")[0]!)).toMatchObject({ complete: false, filters: { type: "ROLE_GRANTED" } });

  const csv = await page.request.get("/audit/export?format=csv&type=ROLE_GRANTED");
  expect(csv.headers()["content-type"]).toContain("text/csv");
  const rows = (await csv.text()).trim().split("\n");
  expect(rows[0]).toMatch(/^seq,occurredAt,type,/);
  expect(rows.slice(1).every((r) => r.includes(",ROLE_GRANTED,"))).toBe(true);
});

test("an auditor's complete export verifies on its own and holds nothing of another tenant but hashes", async ({ adminPage: admin, tenant, newBrowserPage }) => {
  // Another tenant's activity, before and after the auditor's: names, an application and its people.
  const otherCustomer = uniq("Rival Corp");
  await createCustomer(admin, otherCustomer);
  const otherApp = uniq("Rival app");
  const otherAppId = await createApplication(admin, otherCustomer, otherApp);
  const { page } = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Avery", last: "Auditor", role: "Auditor" });
  const rival = await signedInMember(admin, otherAppId, newBrowserPage, { first: "Rex", last: "Rival", role: "Developer" });

  await page.goto("/audit");
  const help = page.getByTestId("verify-help");
  await expect(help).toContainText(`every event of the applications you audit (${tenant.application}) in full`);
  await expect(help).toContainText("only as its sequence number and hashes, with nothing of its content");
  await expect(help).toContainText("The public key comes from this same server, so check it");
  await expect(page.getByRole("link", { name: "Export NDJSON", exact: true })).toBeVisible();
  await screenshot(page, "audit-auditor");

  const res = await page.request.get("/audit/export?format=ndjson");
  expect(res.status()).toBe(200);
  const text = await res.text();
  const lines = text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines[0]).toMatchObject({ kind: "releasegate-audit-export", complete: true, filters: {}, applications: [tenant.applicationId] });
  const events = lines.filter((l) => l.kind === "event");
  expect(events.length).toBeGreaterThan(1);
  expect(new Set(events.map((e) => e.applicationId))).toEqual(new Set([tenant.applicationId]));
  const hidden = lines.filter((l) => l.kind === "redacted");
  expect(hidden.length).toBeGreaterThan(events.length);
  for (const h of hidden) expect(Object.keys(h).sort()).toEqual(["chainVersion", "contentHash", "hash", "kind", "prevHash", "seq"]);
  // Nothing of the other tenant: not its names, its application, its people.
  for (const secret of [otherCustomer, otherApp, otherAppId, rival.person.email, rival.person.name]) expect(text).not.toContain(secret);

  const ok = await verifyExport(page, text);
  expect(ok.code, ok.out).toBe(0);
  expect(ok.out).toMatch(/^OK \d+ events \(\d+ of them other applications' or platform-wide, as hashes only\), [1-9]\d* checkpoints?; signed through event \d+ \(hash [0-9a-f]{64}\)/);
  expect(ok.out).toMatch(/keep this anchor outside Releasegate: --anchor \d+:[0-9a-f]{64}/);

  // One of their events edited: the same command names it.
  const grant = events.find((e) => String(e.summary).startsWith("granted AUDITOR"))!;
  const bad = await verifyExport(page, text.replace(String(grant.summary), String(grant.summary).replace("granted", "revoked")));
  expect(bad.code).toBe(1);
  expect(bad.out).toContain(`first bad sequence number: ${String(grant.seq)}`);
});

test("a refused attempt on a release shows on its evidence page", async ({ adminPage: admin, tenant, newBrowserPage, request }) => {
  await setProductionGates(admin, tenant.applicationId, false);
  const ops = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Otto", last: "Ops", role: "Ops" });
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dora", last: "Developer", role: "Developer" });
  const auditor = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Ada", last: "Auditor", role: "Auditor" });
  const agent = await SimulatedAgent.enroll(request, await addServer(ops.page, tenant.applicationId, "Production", "web-1"), "web-1");
  const stop = keepOnline([agent]);
  try {
    const release = await createRelease(tenant.applicationId, dev.person.email, "3.1.0");
    // Ops promote it; the developer replays ops' request (only ops deploy to production).
    await ops.page.goto(`/apps/${tenant.applicationId}`);
    const card = ops.page.getByTestId("deploy-Production");
    await card.locator("summary", { hasText: "Deploy to Production" }).click();
    await card.getByLabel("Release", { exact: true }).selectOption({ label: "3.1.0" });
    const sent = await captureAction(ops.page, () => card.getByRole("button", { name: "Deploy to Production" }).click());
    await expect(ops.page.getByRole("heading", { level: 1 })).toHaveText("Deploy 3.1.0 to Production");
    expect(await replayAction(dev.page, sent)).toContain("Only");

    await auditor.page.goto(`/audit/releases/${release.id}`);
    const refusals = auditor.page.getByTestId("refusals");
    await expect(refusals).toContainText(`${dev.person.email} was refused request-deployment (Production)`);
    await expect(auditor.page.getByRole("heading", { name: "Refused attempts (1)" })).toBeVisible();
    await screenshot(auditor.page, "audit-release-evidence-refusal");
    // And in the application's record, where its auditor filters for refusals.
    await auditor.page.goto(`/audit?type=PERMISSION_DENIED&applicationId=${tenant.applicationId}`);
    await expect(auditor.page.getByTestId("audit-table")).toContainText(`${dev.person.email} was refused request-deployment`);
  } finally {
    stop();
  }
});

test("someone without the auditor role has no audit page and cannot export", async ({ adminPage: admin, tenant, newBrowserPage }) => {
  const { page } = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Devon", last: "Developer", role: "Developer" });
  await expect(page.getByRole("link", { name: "Audit", exact: true })).toHaveCount(0);
  await page.goto("/audit");
  await expect(page.getByText(/not found/i).first()).toBeVisible();
  const res = await page.request.get("/audit/export?format=ndjson");
  expect(res.status()).toBe(403);
  expect(await res.json()).toMatchObject({ error: { code: "FORBIDDEN", message: "Only auditors can read the audit record." } });
});

test("an administrator's complete export verifies offline with only the public key", async ({ adminPage: page }) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "releasegate-e2e-audit-"));
  const key = await page.request.get("/audit/public-key");
  expect(key.status()).toBe(200);
  const keyFile = path.join(dir, "public.pem");
  await writeFile(keyFile, await key.text());
  const exp = await page.request.get("/audit/export?format=ndjson");
  const exportFile = path.join(dir, "audit.ndjson");
  const text = await exp.text();
  expect(JSON.parse(text.split("\n")[0]!)).toMatchObject({ complete: true });
  await writeFile(exportFile, text);

  const ok = await run("npx", ["--no-install", "tsx", "scripts/audit-verify.ts", "--public-key", keyFile, "--export", exportFile]);
  expect(ok.stdout).toMatch(/^OK \d+ events, [1-9]\d* checkpoints?; signed through event \d+/);
  // The export signed its newest events when it was made: none is left unprotected.
  expect(ok.stdout).not.toContain("NOT SIGNED");

  // One edited character anywhere in an event and the same command names the event and fails.
  await writeFile(exportFile, text.replace(/"summary":"created customer /, '"summary":"created customer X'));
  const bad = await run("npx", ["--no-install", "tsx", "scripts/audit-verify.ts", "--public-key", keyFile, "--export", exportFile]).catch(
    (e: { code: number; stdout: string }) => e,
  );
  expect("code" in bad ? bad.code : 0).toBe(1);
  expect(bad.stdout).toMatch(/first bad sequence number: \d+/);
});

test("a filter link nobody could have made (a cursor beyond bigint, a NUL byte) gets a readable answer, never a server error", async ({ adminPage: page }) => {
  for (const query of ["before=-99999999999999999999", "before=99999999999999999999", "actor=ana%00%40example.test", "release=1.0%00"]) {
    const response = await page.goto(`/audit?${query}`);
    expect(response?.status(), query).toBe(200);
    await expect(page.getByRole("main").getByRole("alert"), query).toContainText("Showing all events instead.");
    await expect(page.getByTestId("audit-table")).toBeVisible();
  }
  for (const query of ["before=-99999999999999999999", "actor=%00", "release=%00"]) {
    const exported = await page.request.get(`/audit/export?format=ndjson&${query}`);
    expect(exported.status(), query).toBe(400);
    expect(((await exported.json()) as { error: { code: string; message: string } }).error, query).toMatchObject({ code: "INVALID_INPUT", message: expect.stringMatching(/^[A-Z]/) });
  }
});

test("a page further back in the record leads back to its newest events in one click", async ({ adminPage: page }) => {
  // A page of older events, as "Older events →" leads to (with a filter, which the way back keeps).
  await page.goto("/audit?type=USER_SIGNED_IN&before=9000000000");
  const paging = page.getByTestId("audit-paging");
  await paging.getByRole("link", { name: "← Newest events" }).click();
  await expect(page).toHaveURL(/\/audit\?type=USER_SIGNED_IN$/);
  await expect(page.getByRole("link", { name: "← Newest events" })).toHaveCount(0);
  await expect(page.getByRole("row").nth(1)).toContainText("USER_SIGNED_IN");
});
