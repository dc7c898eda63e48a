// The release procedure end to end, as the five people who do it, each signing in in a browser of their own and
// clicking what they would click, against real parts: HAProxy in front of three production nodes, a QA and an
// acceptance node, each running the sample app with the real bundled agent. A developer uploads a 50 MB build
// (a real, runnable one) and deploys it to QA and Acceptance; the customer tests it there and accepts it; an
// approver approves it; ops prepare the migration hooks, promote it and watch the rollout finish, then revert it
// with a reason; an auditor finds every step, who did it, when, and the artifact's hash, on the release's evidence.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Page } from "@playwright/test";
import { clickAndConfirm, expect, markDocument, setProductionGates, signIn, test } from "./fixtures";
import { buildLargeSampleArtifact, deployViaApi, type E2EFleet, nodeVersions, startE2EFleet, uploadSampleRelease, waitForDeployment } from "./support/fleet-fixture";
import { fillReleaseForm, pickFile, saveRelease, screenshot, waitUntilUploaded } from "./support/releases";

const MiB = 1024 * 1024;

/** The hooks ops set for Production: each leaves its mark in the node's directory, so the test sees what ran where. */
const HOOKS = {
  "Maintenance page on": 'echo "maintenance-on $RELEASEGATE_RELEASE_VERSION" >> hooks.log',
  "Backup (before a migration)": 'echo "backup $RELEASEGATE_RELEASE_VERSION" >> hooks.log',
  Migrate: 'echo "migrate $RELEASEGATE_RELEASE_VERSION" >> hooks.log',
  "Maintenance page off": 'echo "maintenance-off $RELEASEGATE_RELEASE_VERSION" >> hooks.log',
};

/** On the application page: deploys `version` to `environment` (confirming the question, if one is asked) and lands on its live page. */
async function deployFromColumn(page: Page, applicationId: string, environment: string, label: string, options: { reason?: string; confirm?: string } = {}) {
  await page.goto(`/apps/${applicationId}`);
  const card = page.getByTestId(`deploy-${environment}`);
  await card.locator("summary", { hasText: `Deploy to ${environment}` }).click();
  await card.getByLabel("Release", { exact: true }).selectOption({ label });
  if (options.reason) await card.getByLabel("Reason (optional)").fill(options.reason);
  const button = card.getByRole("button", { name: `Deploy to ${environment}` });
  if (options.confirm) await clickAndConfirm(button, options.confirm);
  else await button.click();
  await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
}

const hookMarks = async (f: E2EFleet, node: string) => readFile(path.join(f.fleet.agents.find((a) => a.name === node)!.dir, "hooks.log"), "utf8").catch(() => "");

let f: E2EFleet;

test.afterAll(async () => {
  await f?.stop();
});

test("upload, QA, acceptance, approval, promotion, revert and the auditor's evidence, as five people with real agents", async ({ baseURL, request, newBrowserPage }) => {
  test.setTimeout(300_000);
  f = await startE2EFleet(baseURL!, "story");
  const appId = f.seeded.applicationId;
  const person = (role: string) => f.seeded.people.find((p) => p.role === role)!;
  const signedIn = async (who: { email: string; password: string }) => {
    const page = await newBrowserPage();
    await signIn(page, who);
    return page;
  };

  // Production already runs 1.0.0 (the pipeline put it there), so there is a release to revert to. Then the
  // administrator switches Production's gates on: the previous stage, a customer's acceptance, one approval.
  await uploadSampleRelease(request, f, "1.0.0");
  expect((await waitForDeployment(request, f, await deployViaApi(request, f, "production", "1.0.0"))).status).toBe("SUCCEEDED");
  const admin = await signedIn(f.seeded.admin);
  await setProductionGates(admin, appId, true);
  const appName = (await admin.getByRole("heading", { level: 1 }).textContent())!.replace(/: environments & people$/, "");

  // ---- the developer uploads a 50 MB release candidate in the browser and deploys it to QA, then Acceptance ----
  const dev = await signedIn(person("DEVELOPER"));
  await dev.goto(`/apps/${appId}`);
  await dev.getByRole("link", { name: "Upload a release" }).click();
  const artifact = await buildLargeSampleArtifact(f, "2.0.0", 50 * MiB);
  expect(artifact.size).toBeGreaterThan(50 * MiB);
  await pickFile(dev, artifact.file);
  await fillReleaseForm(dev, {
    version: "2.0.0",
    notes: "## One-page checkout\n\n- Faster **checkout**",
    needsMigration: true,
    migrationInstructions: "Adds the `orders.express` column. Only the **first server** migrates; the shop shows its maintenance page meanwhile.",
    sha256: artifact.sha256,
  });
  await waitUntilUploaded(dev);
  await saveRelease(dev);
  await expect(dev.getByTestId("artifact-sha256")).toHaveText(artifact.sha256, { timeout: 30_000 });
  const releaseId = /\/releases\/([0-9a-f-]{36})$/.exec(dev.url())![1]!;

  // QA and Acceptance have no migration hooks: the developer is warned, and deploys anyway (test databases).
  for (const [environment, node] of [
    ["QA", "qa"],
    ["Acceptance", "acceptance"],
  ] as const) {
    await deployFromColumn(dev, appId, environment, "2.0.0 · migration", { confirm: `2.0.0 needs a database migration, but ${environment} has no backup or migrate hook. Deploy it anyway?` });
    await expect(dev.getByRole("heading", { level: 1 })).toHaveText(`Deploy 2.0.0 to ${environment}`);
    await expect(dev.getByTestId("deployment-status")).toHaveText("succeeded", { timeout: 60_000 });
    expect(await nodeVersions(f, node)).toEqual({ [node === "qa" ? "qa-1" : "acc-1"]: "2.0.0" });
  }
  // The uploader may not accept their own build.
  await dev.goto(`/apps/${appId}/releases/${releaseId}/decide`);
  await expect(dev.getByTestId("decision-why")).toContainText("You uploaded 2.0.0, so you can neither accept nor approve it");
  await expect(dev.getByRole("button", { name: /^Accept/ })).toHaveCount(0);

  // ---- the customer tester: told on the home page, tests the acceptance site, accepts ----
  const customer = await signedIn(person("CUSTOMER"));
  await customer.getByTestId("work-items").getByRole("link", { name: `Test ${appName} 2.0.0` }).click();
  await expect(customer.getByRole("heading", { level: 1 })).toHaveText(`Review ${appName} 2.0.0`);
  const site = (await customer.getByTestId("acceptance-url").getAttribute("href"))!;
  const tester = await newBrowserPage();
  await tester.goto(site);
  await expect(tester.locator("#version")).toHaveText("2.0.0");
  await customer.getByRole("button", { name: "Accept 2.0.0" }).click();
  await expect(customer.getByTestId("decision-state")).toContainText(`Accepted by ${person("CUSTOMER").name}`);

  // ---- the approver approves it for Production ----
  const approver = await signedIn(person("APPROVER"));
  await approver.getByTestId("work-items").getByRole("link", { name: `Approve ${appName} 2.0.0 for Production` }).click();
  await approver.getByLabel("Comment (optional)").fill("CAB-7, window agreed");
  await approver.getByRole("button", { name: "Approve 2.0.0 for Production" }).click();
  await expect(approver.getByTestId("decision-state")).toContainText("Accepted and approved: ready for ops to promote.");

  // ---- ops: the migration hooks first (the panel says they are missing), then promote and watch it live ----
  const ops = await signedIn(person("OPS"));
  await ops.getByTestId("work-items").getByRole("link", { name: `Promote ${appName} 2.0.0 to production` }).click();
  await ops.goto(`/apps/${appId}`);
  // The application page asks the same of them.
  await expect(ops.getByRole("region", { name: "Waiting on you" }).getByRole("link", { name: `Promote ${appName} 2.0.0 to production` })).toBeVisible();
  let card = ops.getByTestId("deploy-Production");
  await card.locator("summary", { hasText: "Deploy to Production" }).click();
  await card.getByLabel("Release", { exact: true }).selectOption({ label: "2.0.0 · migration" });
  await expect(card.getByTestId("migration-hooks-missing")).toContainText("Production has no backup and no migrate hook");
  await expect(card.getByTestId("migration-instructions").locator("strong")).toHaveText("first server");
  await card.getByRole("link", { name: "Set it in the rollout settings" }).click();
  const settings = ops.getByRole("region", { name: "Rollout settings" });
  for (const [label, command] of Object.entries(HOOKS)) await settings.getByLabel(label, { exact: true }).fill(command);
  await settings.getByRole("button", { name: "Save rollout settings" }).click();
  await expect(settings.getByRole("status")).toHaveText("Rollout settings saved.");
  await ops.goto(`/apps/${appId}`);
  card = ops.getByTestId("deploy-Production");
  await card.locator("summary", { hasText: "Deploy to Production" }).click();
  await card.getByLabel("Release", { exact: true }).selectOption({ label: "2.0.0 · migration" });
  await expect(card.getByTestId("migration-hooks-missing")).toHaveCount(0);
  await expect(card.getByTestId("migration-steps").getByRole("listitem").first()).toHaveText("web-1 leaves the load balancer and stops.");
  await screenshot(ops, "story-promote");
  await deployFromColumn(ops, appId, "Production", "2.0.0 · migration", { reason: "Weekly release, CAB-7" });
  await expect(ops.getByRole("heading", { level: 1 })).toHaveText("Deploy 2.0.0 to Production");
  const sameDocument = await markDocument(ops);
  await expect(ops.getByTestId("live-indicator")).toHaveAttribute("data-mode", "live");
  await expect(ops.getByTestId("deployment-status")).toHaveText("succeeded", { timeout: 90_000 });
  await expect(ops.getByTestId("progress-label")).toHaveText("6 of 6 steps · 3/3 servers updated");
  expect(await sameDocument(), "the rollout was followed without a reload").toBe(true);
  await screenshot(ops, "story-promoted");
  expect(await nodeVersions(f)).toEqual({ "web-1": "2.0.0", "web-2": "2.0.0", "web-3": "2.0.0" });
  // The migration ran once, on the first server, in order; the others only switched.
  expect(await hookMarks(f, "web-1")).toBe("maintenance-on 2.0.0\nbackup 2.0.0\nmigrate 2.0.0\nmaintenance-off 2.0.0\n");
  expect(await hookMarks(f, "web-2")).toBe("");
  expect(await hookMarks(f, "web-3")).toBe("");

  // ---- ops revert, with a reason ----
  await ops.goto(`/apps/${appId}`);
  card = ops.getByTestId("deploy-Production");
  await expect(card.getByTestId("live-release")).toHaveText("Runs 2.0.0 · before: 1.0.0");
  await card.locator("summary", { hasText: "Revert to 1.0.0" }).click();
  await expect(card.getByTestId("revert-migration-warning")).toContainText("2.0.0 migrated the database");
  await card.getByLabel("Why revert? (recorded)").fill("Express checkout double-charges cards");
  await clickAndConfirm(card.getByRole("button", { name: "Revert to 1.0.0" }), "Revert Production from 2.0.0 to 1.0.0?");
  await expect(ops.getByRole("heading", { level: 1 })).toHaveText("Revert Production to 1.0.0");
  await expect(ops.getByTestId("deployment-status")).toHaveText("succeeded", { timeout: 60_000 });
  expect(await nodeVersions(f)).toEqual({ "web-1": "1.0.0", "web-2": "1.0.0", "web-3": "1.0.0" });
  expect(await hookMarks(f, "web-1"), "a revert does not migrate").toBe("maintenance-on 2.0.0\nbackup 2.0.0\nmigrate 2.0.0\nmaintenance-off 2.0.0\n");

  // ---- the auditor: each step, who, when and which bytes, on the release's evidence ----
  const auditor = await signedIn(person("AUDITOR"));
  await auditor.getByRole("link", { name: "Audit", exact: true }).click();
  await auditor.getByLabel("Release version").fill("2.0.0");
  await auditor.getByRole("button", { name: "Filter" }).click();
  await auditor.getByTestId("audit-table").getByRole("link", { name: "Release evidence →" }).first().click();
  await expect(auditor.getByRole("heading", { level: 1 })).toHaveText(`Evidence: ${appName} 2.0.0`);
  await expect(auditor.getByTestId("release-sha")).toHaveText(artifact.sha256);
  await expect(auditor.getByTestId("bytes-check")).toContainText(/^Yes: all \d+ recorded hashes match$/);
  const milestones = auditor.getByTestId("milestones").getByRole("listitem");
  // In the order it happened.
  expect(await milestones.evaluateAll((rows) => rows.map((r) => r.firstElementChild?.textContent))).toEqual([
    "Uploaded",
    "Deployed to QA",
    "Deployed to Acceptance",
    "Accepted by the customer",
    "Approved",
    "Promoted to Production",
    "Reverted in Production to 1.0.0",
  ]);
  const sha = `sha ${artifact.sha256.slice(0, 16)}…`;
  for (const [label, role] of [
    ["Uploaded", "DEVELOPER"],
    ["Deployed to QA", "DEVELOPER"],
    ["Deployed to Acceptance", "DEVELOPER"],
    ["Promoted to Production", "OPS"],
    ["Accepted by the customer", "CUSTOMER"],
    ["Approved", "APPROVER"],
  ] as const) {
    const row = milestones.filter({ hasText: new RegExp(`^${label}`) });
    await expect(row).toContainText(person(role).email);
    await expect(row).toContainText(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
    await expect(row).toContainText(sha);
  }
  const reverted = milestones.filter({ hasText: "Reverted in Production to 1.0.0" });
  await expect(reverted).toContainText(person("OPS").email);
  await expect(auditor.getByText(/requested revert of .* from 2\.0\.0 to 1\.0\.0: Express checkout double-charges cards/)).toBeVisible();
  await screenshot(auditor, "story-evidence");
});
