// An auditor reads the record of exactly their application, filters it and exports it; an administrator's complete
// export verifies offline with nothing but the public key, through the same command the README gives auditors.
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createApplication, createCustomer, expect, signedInMember, test, uniq } from "./fixtures";

const run = promisify(execFile);

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

  const res = await page.request.get("/audit/export?format=ndjson");
  expect(res.status()).toBe(200);
  const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines[0]).toMatchObject({ kind: "releasegate-audit-export", complete: false });
  const events = lines.filter((l) => l.kind === "event");
  expect(events.length).toBeGreaterThan(1);
  expect(new Set(events.map((e) => e.applicationId))).toEqual(new Set([tenant.applicationId]));

  const csv = await page.request.get("/audit/export?format=csv&type=ROLE_GRANTED");
  expect(csv.headers()["content-type"]).toContain("text/csv");
  const rows = (await csv.text()).trim().split("\n");
  expect(rows[0]).toMatch(/^seq,occurredAt,type,/);
  expect(rows.slice(1).every((r) => r.includes(",ROLE_GRANTED,"))).toBe(true);
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
  expect(ok.stdout).toMatch(/^OK \d+ events, [1-9]\d* checkpoints; signed through event \d+/);

  // One edited character anywhere in an event and the same command names the event and fails.
  await writeFile(exportFile, text.replace(/"summary":"created customer /, '"summary":"created customer X'));
  const bad = await run("npx", ["--no-install", "tsx", "scripts/audit-verify.ts", "--public-key", keyFile, "--export", exportFile]).catch(
    (e: { code: number; stdout: string }) => e,
  );
  expect("code" in bad ? bad.code : 0).toBe(1);
  expect(bad.stdout).toMatch(/first bad sequence number: \d+/);
});
