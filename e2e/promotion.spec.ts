// Production promotion by ops, from the deploy panel: now, or scheduled for a maintenance window entered in their
// own time zone (Playwright gives each person's browser its own); a scheduled deployment shows in the environment's
// column with who set it up, when and a countdown, and ops may cancel it; it starts at its time, unless a gate no
// longer holds then (here: a freeze planned over it), when it ends without touching a server and says why. A freeze
// blocks promotion now, unless ops give a reason. A release that migrates the database shows its instructions and what the rollout will do,
// and warns when the environment lacks the hooks. Agents are played by the test over the real agent API; the
// sweep that starts scheduled deployments is the real one (every 2 s), so "a few seconds ahead" is an honest wait.
import type { APIRequestContext, Page } from "@playwright/test";
import {
  addServer,
  clickAndConfirm,
  completeRollout,
  createRelease,
  createUser,
  expect,
  grantRole,
  keepOnline,
  newPerson,
  type Person,
  setProductionGates,
  signedInMember,
  SimulatedAgent,
  test,
  type Tenant,
} from "./fixtures";
import { screenshot } from "./support/releases";

interface Setup {
  ops: { page: Page; person: Person };
  /** The developer who uploads the releases; `page` only when they were asked to sign in. */
  dev: { page: Page | null; person: Person };
  agents: SimulatedAgent[];
  stop: () => void;
}

/** Ops in `timeZone`, a developer, and Production's servers with agents online. */
async function promotion(
  admin: Page,
  tenant: Tenant,
  newBrowserPage: (o?: { timezoneId: string }) => Promise<Page>,
  request: APIRequestContext,
  o: { timeZone: string; servers?: string[]; developerSignsIn?: boolean },
): Promise<Setup> {
  await setProductionGates(admin, tenant.applicationId, false);
  const ops = await signedInMember(admin, tenant.applicationId, () => newBrowserPage({ timezoneId: o.timeZone }), { first: "Olga", last: "Ops", role: "Ops" });
  let dev: Setup["dev"];
  if (o.developerSignsIn) dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dev", last: "Developer", role: "Developer" });
  else {
    const person = newPerson("Dev", "Developer");
    await createUser(admin, person);
    await grantRole(admin, tenant.applicationId, person, "Developer");
    dev = { page: null, person };
  }
  const agents: SimulatedAgent[] = [];
  for (const name of o.servers ?? ["web-1"]) agents.push(await SimulatedAgent.enroll(request, await addServer(ops.page, tenant.applicationId, "Production", name), name));
  return { ops, dev, agents, stop: keepOnline(agents) };
}

/** The application page's Production column with its deploy form open. */
async function openDeployForm(page: Page, applicationId: string) {
  await page.goto(`/apps/${applicationId}`);
  const card = page.getByTestId("deploy-Production");
  await card.locator("summary", { hasText: "Deploy to Production" }).click();
  return card;
}

/**
 * A time as the person's datetime-local input takes it, in their browser's zone, and the instant it means: a day
 * and a clock time (`days` from today), or `seconds` from now (kept to the second).
 */
async function localTime(page: Page, at: { days: number; hour: number; minute: number } | { seconds: number }): Promise<{ local: string; iso: string }> {
  return page.evaluate((a) => {
    const d = new Date();
    if ("seconds" in a) d.setTime(d.getTime() + a.seconds * 1000);
    else {
      d.setDate(d.getDate() + a.days);
      d.setHours(a.hour, a.minute, 0, 0);
    }
    d.setMilliseconds(0);
    const p = (n: number) => String(n).padStart(2, "0");
    const local = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}${d.getSeconds() ? `:${p(d.getSeconds())}` : ""}`;
    return { local, iso: d.toISOString() };
  }, at);
}

/** "2026-11-23 03:00 UTC", as the pages and confirmations write an instant (seconds only when there are some). */
const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, iso.slice(17, 19) === "00" ? 16 : 19)} UTC`;
/** The same to the minute, as the gates' messages write it. */
const toMinute = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

test("ops schedule a production deployment for a maintenance window in their own time zone, see it in the column, and cancel it", async ({
  adminPage: admin,
  tenant,
  newBrowserPage,
  request,
}) => {
  test.setTimeout(120_000);
  const s = await promotion(admin, tenant, newBrowserPage, request, { timeZone: "America/New_York", developerSignsIn: true });
  const devPage = s.dev.page!;
  try {
    await createRelease(tenant.applicationId, s.dev.person.email, "1.0.0");
    const page = s.ops.page;
    const card = await openDeployForm(page, tenant.applicationId);
    await card.getByLabel("Release", { exact: true }).selectOption({ label: "1.0.0" });
    await card.getByLabel("Schedule for…").check();
    const startAt = card.getByLabel("Start at");
    const submit = card.getByRole("button", { name: "Schedule deployment to Production" });

    // A time that has passed is refused on its field, and what was typed stays.
    const yesterday = await localTime(page, { days: -1, hour: 22, minute: 0 });
    await startAt.fill(yesterday.local);
    await expect(card.getByTestId("scheduledFor-zone")).toHaveText(`Your time zone: America/New_York · that is ${utc(yesterday.iso)}. The gates are checked again when it starts.`);
    await submit.click();
    await expect(card.getByRole("alert")).toHaveText("Check the form: That time has passed: pick a time in the future.");
    await expect(card.getByText("That time has passed: pick a time in the future.", { exact: true })).toBeVisible();
    await expect(startAt).toHaveValue(yesterday.local);
    await expect(startAt).toHaveAttribute("aria-invalid", "true");
    // So is one absurdly far ahead.
    await startAt.fill((await localTime(page, { days: 200, hour: 22, minute: 0 })).local);
    await submit.click();
    await expect(card.getByRole("alert")).toHaveText("Check the form: Pick a time within the next 90 days.");

    // Tomorrow 22:00 in New York.
    const window = await localTime(page, { days: 1, hour: 22, minute: 0 });
    await startAt.fill(window.local);
    await card.getByLabel("Reason (optional)").fill("Sunday maintenance window");
    await submit.click();
    const scheduled = card.getByTestId("scheduled-deployment");
    await expect(scheduled).toContainText("Deploys 1.0.0");
    await expect(scheduled.getByTestId("deployment-status")).toHaveText("scheduled");
    await expect(scheduled.getByTestId("scheduled-time")).toHaveAttribute("datetime", window.iso);
    await expect(scheduled.getByTestId("scheduled-time")).toContainText(/ 22:00 America\/New_York$/);
    await expect(scheduled.getByTestId("countdown")).toHaveText(/^in \d+ h \d{2} min$/);
    await expect(scheduled.getByTestId("scheduled-by")).toHaveText(`Scheduled by ${s.ops.person.name}: Sunday maintenance window`);
    await expect(scheduled.getByTestId("scheduled-blocked")).toHaveCount(0);
    // One deployment per environment: nothing else can be started meanwhile.
    await expect(card.locator("summary", { hasText: "Deploy to Production" })).toHaveCount(0);
    await screenshot(page, "application-scheduled");
    expect(await s.agents[0]!.claim(), "nothing runs before its time").toBeNull();

    // The developer (another zone: the browser's default) sees it and is told, but may not cancel it.
    await devPage.goto(`/apps/${tenant.applicationId}`);
    const seen = devPage.getByTestId("deploy-Production").getByTestId("scheduled-deployment");
    await expect(seen).toContainText("Deploys 1.0.0");
    await expect(seen.getByTestId("scheduled-time")).toHaveAttribute("datetime", window.iso);
    await expect(seen.getByRole("button", { name: "Cancel" })).toHaveCount(0);
    await devPage.goto("/inbox");
    await expect(devPage.getByTestId("notification").filter({ hasText: `Deployment of ${tenant.application} 1.0.0 to Production is scheduled for ${utc(window.iso)}` })).toContainText(
      `Scheduled by ${s.ops.person.name}: Sunday maintenance window`,
    );

    // Its own page says the same, and counts down.
    await scheduled.getByRole("link", { name: "Details →" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Deploy 1.0.0 to Production");
    const summary = page.getByTestId("deployment-summary");
    await expect(summary.getByTestId("scheduled-time")).toContainText(/ 22:00 America\/New_York$/);
    await expect(summary).toContainText(/starts in \d+ h \d{2} min/);
    await expect(page.getByRole("button", { name: "Cancel scheduled deployment" })).toBeVisible();
    await screenshot(page, "deployment-scheduled");

    // Ops cancel it from the column: it is gone, and Production can be deployed to again.
    await page.goto(`/apps/${tenant.applicationId}`);
    await clickAndConfirm(card.getByRole("button", { name: "Cancel" }), `Cancel the deployment of 1.0.0 to Production scheduled for ${utc(window.iso)}?`);
    await expect(card.getByTestId("scheduled-deployment")).toHaveCount(0);
    await expect(card.locator("summary", { hasText: "Deploy to Production" })).toBeVisible();

    // The record has both, with the instant the local time meant.
    await admin.goto(`/audit?applicationId=${tenant.applicationId}`);
    const table = admin.getByTestId("audit-table");
    await expect(table).toContainText(`scheduled deployment of 1.0.0 to ${tenant.application} / Production for ${window.iso}`);
    await expect(table).toContainText(`cancelled the deployment of 1.0.0 to ${tenant.application} / Production scheduled for ${window.iso}`);
  } finally {
    s.stop();
  }
});

test("a scheduled deployment starts at its time; a freeze blocks promotion unless ops give a reason, and one planned over a scheduled time stops it when it is due", async ({
  adminPage: admin,
  tenant,
  newBrowserPage,
  request,
}) => {
  test.setTimeout(150_000);
  const s = await promotion(admin, tenant, newBrowserPage, request, { timeZone: "Europe/Amsterdam" });
  try {
    for (const version of ["1.0.0", "2.0.0"]) await createRelease(tenant.applicationId, s.dev.person.email, version);
    const page = s.ops.page;
    const [agent] = s.agents as [SimulatedAgent];

    // ---- a few seconds ahead: nothing until then; then the column shows it rolling out, without a reload ----
    let card = await openDeployForm(page, tenant.applicationId);
    await card.getByLabel("Release", { exact: true }).selectOption({ label: "1.0.0" });
    await card.getByLabel("Schedule for…").check();
    const soon = await localTime(page, { seconds: 8 });
    await card.getByLabel("Start at").fill(soon.local);
    await card.getByRole("button", { name: "Schedule deployment to Production" }).click();
    await expect(card.getByTestId("scheduled-deployment").getByTestId("countdown")).toHaveText(/^in \d s$/);
    expect(await agent.claim()).toBeNull();
    const active = card.getByTestId("active-deployment");
    await expect(active).toContainText("Deploying 1.0.0", { timeout: 20_000 });
    const stage = await agent.expectJob("STAGE");
    expect(Date.now(), "started at its time, not before").toBeGreaterThanOrEqual(Date.parse(soon.iso));
    await agent.succeed(stage);
    await active.click();
    await expect(page.getByTestId("deployment-summary").getByTestId("scheduled-time")).toHaveAttribute("datetime", soon.iso);
    await completeRollout(s.agents);
    await expect(page.getByTestId("deployment-status")).toHaveText("succeeded");

    // ---- a freeze blocks promotion now, and a time inside it ----
    await page.goto(`/apps/${tenant.applicationId}/freezes`);
    const freezes = page.getByRole("region", { name: "Production", exact: true });
    const freeze = async (until: { local: string }, reason: string) => {
      await freezes.locator("summary", { hasText: "Freeze Production…" }).click();
      await freezes.getByLabel("Until").fill(until.local);
      await freezes.getByLabel("Reason (shown to everyone who tries to deploy)").fill(reason);
      await freezes.getByRole("button", { name: "Freeze Production" }).click();
      await expect(freezes.getByRole("status")).toContainText("until");
    };
    const quarterClose = await localTime(page, { seconds: 2 * 3600 });
    await freeze(quarterClose, "Quarter close");
    card = await openDeployForm(page, tenant.applicationId);
    await expect(card.getByTestId("freeze-banner")).toContainText("Quarter close");
    await card.getByLabel("Release", { exact: true }).selectOption({ label: "2.0.0 — frozen now" });
    await card.getByRole("button", { name: "Deploy to Production" }).click();
    await expect(card.getByRole("alert")).toHaveText(`Production is frozen until ${toMinute(quarterClose.iso)} (Quarter close). Ops may override with a reason.`);
    await card.getByLabel("Schedule for…").check();
    await card.getByLabel("Start at").fill((await localTime(page, { seconds: 3600 })).local);
    await card.getByRole("button", { name: "Schedule deployment to Production" }).click();
    await expect(card.getByText("A freeze covers this time: pick another, or give a freeze override reason.", { exact: true })).toBeVisible();
    await screenshot(page, "application-frozen");
    expect(await agent.claim()).toBeNull();
    // Through the freeze, now, with a recorded reason: that is ops' call.
    await card.getByLabel("Deploy now").check();
    await card.getByLabel("Freeze override reason").fill("Payment outage fix, CTO approved");
    await card.getByRole("button", { name: "Deploy to Production" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Deploy 2.0.0 to Production");
    await expect(page.getByTestId("deployment-summary")).toContainText("Payment outage fix, CTO approved");
    await completeRollout(s.agents);
    await expect(page.getByTestId("deployment-status")).toHaveText("succeeded");
    await page.goto(`/apps/${tenant.applicationId}/freezes`);
    await clickAndConfirm(freezes.getByTestId("freeze").filter({ hasText: "Quarter close" }).getByRole("button", { name: "End freeze now" }), "End the freeze of Production now (Quarter close)?");

    // ---- scheduled, then a freeze planned over its time: the column warns, and at its time it does not start ----
    card = await openDeployForm(page, tenant.applicationId);
    await card.getByLabel("Release", { exact: true }).selectOption({ label: "1.0.0" });
    await card.getByLabel("Schedule for…").check();
    const later = await localTime(page, { seconds: 20 });
    await card.getByLabel("Start at").fill(later.local);
    await card.getByRole("button", { name: "Schedule deployment to Production" }).click();
    await expect(card.getByTestId("scheduled-deployment")).toContainText("Deploys 1.0.0");
    await page.goto(`/apps/${tenant.applicationId}/freezes`);
    const incident = await localTime(page, { seconds: 3600 });
    await freeze(incident, "Incident review");
    await page.goto(`/apps/${tenant.applicationId}`);
    const frozen = `Production is frozen until ${toMinute(incident.iso)} (Incident review). Ops may override with a reason.`;
    await expect(card.getByTestId("scheduled-blocked")).toHaveText(`Will not start as things stand: ${frozen}`);
    // Reverting would collide with it: the column says so instead of hiding the revert.
    await expect(card.locator("summary", { hasText: "Revert to 1.0.0" })).toHaveCount(0);
    await expect(card.getByTestId("revert-blocked")).toHaveText(/^A deployment is scheduled for .+ Europe\/Amsterdam: cancel it first to revert to 1\.0\.0\.$/);
    await screenshot(page, "application-scheduled-blocked");
    await card.getByTestId("scheduled-deployment").getByRole("link", { name: "Details →" }).click();
    await expect(page.getByTestId("scheduled-blocked")).toHaveText(`Will not start as things stand: ${frozen}`);
    // The page follows it live: at its time it ends, without a reload.
    await expect(page.getByTestId("deployment-status")).toHaveText("failed", { timeout: 30_000 });
    await expect(page.getByTestId("scheduled-blocked")).toHaveCount(0);
    await expect(page.getByTestId("progress-label")).toHaveText("No server was touched");
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(later.iso));
    await expect(page.getByTestId("failure-reason")).toHaveText(`Why it did not start: At its scheduled time the gates no longer held: ${frozen} No server was changed.`);
    await expect(page.getByTestId("rollout-server-web-1")).toHaveCount(0);
    expect(await agent.claim(), "no server was asked to do anything").toBeNull();
    await screenshot(page, "deployment-not-started");
    await page.goto(`/apps/${tenant.applicationId}`);
    await expect(card.getByTestId("live-release")).toHaveText("Runs 2.0.0 · before: 1.0.0");

    await admin.goto(`/audit?applicationId=${tenant.applicationId}`);
    await expect(admin.getByTestId("audit-table")).toContainText(`scheduled deployment of 1.0.0 to ${tenant.application} / Production did not start: ${frozen}`);
  } finally {
    s.stop();
  }
});

test("a release that migrates the database shows its instructions and what will happen; missing backup and migrate hooks are warned about first", async ({
  adminPage: admin,
  tenant,
  newBrowserPage,
  request,
}) => {
  test.setTimeout(120_000);
  const s = await promotion(admin, tenant, newBrowserPage, request, { timeZone: "Europe/Amsterdam", servers: ["web-1", "web-2"] });
  try {
    const instructions = [
      "## Before the window",
      "",
      "Tell the **support desk**: the shop shows its maintenance page for about two minutes.",
      "",
      "The first server runs `php artisan migrate --force`.",
      "",
      "<script>window.__instructionsRan = true</script>",
      "",
      "[runbook](javascript:window.__instructionsRan=true)",
    ].join("\n");
    await createRelease(tenant.applicationId, s.dev.person.email, "3.0.0", { needsMigration: true, migrationInstructions: instructions });
    const page = s.ops.page;
    let card = await openDeployForm(page, tenant.applicationId);
    await card.getByLabel("Release", { exact: true }).selectOption({ label: "3.0.0 · migration" });
    const plan = card.getByTestId("migration-plan");
    await expect(plan).toContainText("3.0.0 needs a database migration.");
    await expect(plan.getByTestId("migration-hooks-missing")).toHaveText(
      "Production has no backup and no migrate hook: nothing will migrate the database, and no backup is taken first. Set it in the rollout settings.",
    );
    // The developer's Markdown, rendered like release notes: HTML stays text, nothing in it runs.
    const written = plan.getByTestId("migration-instructions");
    await expect(written.getByRole("heading", { name: "Before the window" })).toBeVisible();
    await expect(written.locator("strong")).toHaveText("support desk");
    await expect(written.locator("code")).toHaveText("php artisan migrate --force");
    await expect(written).toContainText("<script>window.__instructionsRan = true</script>");
    await expect(written.locator("script")).toHaveCount(0);
    await expect(written.locator('a[href^="javascript:" i]')).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { __instructionsRan?: boolean }).__instructionsRan)).toBeUndefined();
    const steps = plan.getByTestId("migration-steps").getByRole("listitem");
    await expect(steps).toHaveText([
      "web-1 leaves the load balancer and stops.",
      "Maintenance page on: none set (skipped)",
      "Backup: no hook set",
      "Migrate: no hook set",
      "web-1 switches to 3.0.0, starts and passes its health check; maintenance page off: none set (skipped)",
      "Then web-2, without migrating again.",
    ]);
    await screenshot(page, "deploy-migration-missing-hooks");

    // Deploying anyway asks first; saying no changes nothing.
    let asked = "";
    page.once("dialog", (dialog) => {
      asked = dialog.message();
      void dialog.dismiss();
    });
    await card.getByRole("button", { name: "Deploy to Production" }).click();
    await expect.poll(() => asked).toBe("3.0.0 needs a database migration, but Production has no backup or migrate hook. Deploy it anyway?");
    await expect(page).toHaveURL(new RegExp(`/apps/${tenant.applicationId}$`));
    expect(await s.agents[0]!.claim()).toBeNull();

    // Ops follow the warning to the rollout settings, set the hooks, and come back: the plan names them.
    await plan.getByRole("link", { name: "Set it in the rollout settings" }).click();
    const settings = page.getByRole("region", { name: "Rollout settings" });
    const hooks = {
      "Maintenance page on": "touch /var/www/maintenance.on",
      "Backup (before a migration)": "pg_dump shop > /var/backups/shop-$RELEASEGATE_RELEASE_VERSION.sql",
      Migrate: "php artisan migrate --force",
      "Maintenance page off": "rm -f /var/www/maintenance.on",
    };
    for (const [label, command] of Object.entries(hooks)) await settings.getByLabel(label, { exact: true }).fill(command);
    await settings.getByRole("button", { name: "Save rollout settings" }).click();
    await expect(settings.getByRole("status")).toHaveText("Rollout settings saved.");
    card = await openDeployForm(page, tenant.applicationId);
    await card.getByLabel("Release", { exact: true }).selectOption({ label: "3.0.0 · migration" });
    await expect(plan.getByTestId("migration-hooks-missing")).toHaveCount(0);
    await expect(steps).toHaveText([
      "web-1 leaves the load balancer and stops.",
      `Maintenance page on: ${hooks["Maintenance page on"]}`,
      `Backup: ${hooks["Backup (before a migration)"]}`,
      `Migrate: ${hooks.Migrate}`,
      `web-1 switches to 3.0.0, starts and passes its health check; maintenance page off: ${hooks["Maintenance page off"]}`,
      "Then web-2, without migrating again.",
    ]);
    await screenshot(page, "deploy-migration");
    await card.getByRole("button", { name: "Deploy to Production" }).click();
    await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
    await expect(page.getByTestId("deployment-summary")).toContainText("migration");

    // What the agents are told: the first server migrates, with these hooks; the second does not.
    const [web1, web2] = s.agents as [SimulatedAgent, SimulatedAgent];
    for (const agent of s.agents) await agent.succeed(await agent.expectJob("STAGE"));
    const first = await web1.expectJob("ACTIVATE");
    expect(first).toMatchObject({ runMigration: true, hooks: { maintenanceOn: hooks["Maintenance page on"], backup: hooks["Backup (before a migration)"], migrate: hooks.Migrate, maintenanceOff: hooks["Maintenance page off"] } });
    await web1.succeed(first);
    const second = await web2.expectJob("ACTIVATE");
    expect(second.runMigration).toBe(false);
    await web2.succeed(second);
    await expect(page.getByTestId("deployment-status")).toHaveText("succeeded");
  } finally {
    s.stop();
  }
});
