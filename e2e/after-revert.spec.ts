// What the pages say after every path to production, reverts included. Three releases go through QA and the
// customer's acceptance (production needs that, and no approvals here); ops promote 1.0.0, then 1.2.0 (skipping
// 1.1.0), revert 1.2.0, and later deploy it again. At each point the release pages, the review page, the release list
// and its status filter, the auditor's evidence page, ops' home and ops' inbox say what production actually runs:
// a reverted release is not "released", an older release is never offered for promotion, a request to promote that
// is done or overtaken says so. Agents are played by the test over the real agent API.
import type { Page } from "@playwright/test";
import { addServer, clickAndConfirm, completeRollout, expect, keepOnline, signedInMember, SimulatedAgent, test } from "./fixtures";
import { customerTester, releaseInAcceptance, releaseLane, reviewPath, screenshot } from "./support/decisions";

const REASON = "Checkout double-charges cards";

/** Production: a customer's acceptance required, no approvals, no "previous stage first" (the lane deploys QA anyway). */
async function productionNeedsAcceptanceOnly(admin: Page, applicationId: string) {
  await admin.goto(`/apps/${applicationId}/settings`);
  const card = admin.getByRole("region", { name: "3. Production", exact: true });
  await card.getByLabel("Must succeed in the previous environment first").setChecked(false);
  await card.getByLabel("Needs a customer's acceptance").setChecked(true);
  await card.getByLabel("Approvals required").fill("0");
  await card.getByRole("button", { name: "Save", exact: true }).click();
  await expect(card.getByRole("status")).toHaveText("Production saved.");
}

test("after a revert and a redeploy, every page says what production runs", async ({ adminPage: admin, tenant, newBrowserPage, request }) => {
  test.setTimeout(300_000);
  await productionNeedsAcceptanceOnly(admin, tenant.applicationId);
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dev", last: "Developer", role: "Developer" });
  const customer = await customerTester(admin, tenant, newBrowserPage);
  const ops = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Olga", last: "Ops", role: "Ops" });
  const auditor = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Aud", last: "Auditor", role: "Auditor" });
  const lane = await releaseLane(admin, dev.page, request, tenant.applicationId);
  const web = await SimulatedAgent.enroll(request, await addServer(ops.page, tenant.applicationId, "Production", "web-1"), "web-1");
  const stopWeb = keepOnline([web]);
  const app = tenant.application;
  const page = ops.page;
  try {
    // ---- three releases, each tested and accepted by the customer ----
    const releases: Record<string, { id: string; sha256: string }> = {};
    for (const version of ["1.0.0", "1.1.0", "1.2.0"]) {
      releases[version] = await releaseInAcceptance(lane, request, tenant.applicationId, dev.person.email, version);
      await customer.page.goto(reviewPath(tenant.applicationId, releases[version]!.id));
      await customer.page.getByRole("button", { name: `Accept ${version}` }).click();
      await expect(customer.page.getByTestId("decision-state")).toContainText(`Accepted by ${customer.person.name}: ready for ops to promote.`);
    }
    const releasePath = (version: string) => `/apps/${tenant.applicationId}/releases/${releases[version]!.id}`;
    const promoteItems = async () => {
      await page.goto("/");
      return page.getByTestId("work-items").getByRole("listitem").filter({ hasText: /^Promote/ }).allTextContents();
    };
    expect(await promoteItems()).toEqual([
      expect.stringContaining(`Promote ${app} 1.2.0 to production`),
      expect.stringContaining(`Promote ${app} 1.1.0 to production`),
      expect.stringContaining(`Promote ${app} 1.0.0 to production`),
    ]);

    const deploy = async (version: string) => {
      await page.goto(`/apps/${tenant.applicationId}`);
      const card = page.getByTestId("deploy-Production");
      await card.locator("summary", { hasText: "Deploy to Production" }).click();
      await card.getByLabel("Release", { exact: true }).selectOption({ label: version });
      await card.getByRole("button", { name: "Deploy to Production" }).click();
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Deploy ${version} to Production`);
      await completeRollout([web]);
      await expect(page.getByTestId("deployment-status")).toHaveText("succeeded");
    };

    // ---- 1.0.0, then 1.2.0: 1.1.0 is now older than what production runs, so ops are not asked to promote it ----
    await deploy("1.0.0");
    await deploy("1.2.0");
    expect(await promoteItems()).toEqual([]);

    // ---- ops revert 1.2.0, with a reason ----
    await page.goto(`/apps/${tenant.applicationId}`);
    const card = page.getByTestId("deploy-Production");
    await expect(card.getByTestId("live-release")).toHaveText("Runs 1.2.0 · before: 1.0.0");
    await card.locator("summary", { hasText: "Revert to 1.0.0" }).click();
    await card.getByLabel("Why revert? (recorded)").fill(REASON);
    await clickAndConfirm(card.getByRole("button", { name: "Revert to 1.0.0" }), "Revert Production from 1.2.0 to 1.0.0?");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Revert Production to 1.0.0");
    await completeRollout([web]);
    await expect(page.getByTestId("deployment-status")).toHaveText("succeeded");

    // The reverted release's own page: reverted, not released; when, by whom, why, and back to what.
    const reverted = new RegExp(`^Was live in Production, reverted to 1\\.0\\.0 on \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC by ${ops.person.name}: “${REASON}”\\. The revert →$`);
    await page.goto(releasePath("1.2.0"));
    await expect(page.getByTestId("release-summary").getByTestId("release-status")).toHaveText("reverted");
    await expect(page.getByTestId("production-state")).toHaveText(reverted);
    await expect(page.getByTestId("release-live-in")).not.toContainText("Production");
    await expect(page.getByRole("main")).not.toContainText(/released|already live in production/i);
    await screenshot(page, "release-reverted");
    await page.goto(releasePath("1.0.0"));
    await expect(page.getByTestId("release-summary").getByTestId("release-status")).toHaveText("live in production");
    await expect(page.getByTestId("production-state")).toHaveText("Live in Production.");

    // The customer's review page says the same.
    await customer.page.goto(reviewPath(tenant.applicationId, releases["1.2.0"]!.id));
    const state = customer.page.getByTestId("decision-state");
    await expect(state.getByTestId("release-status")).toHaveText("reverted");
    await expect(state).toContainText(`Was live in Production, reverted to 1.0.0 on `);
    await expect(state).toContainText(`by ${ops.person.name}: “${REASON}”.`);
    await expect(customer.page.getByRole("main")).not.toContainText(/released|already live in production/i);
    await screenshot(customer.page, "review-reverted");

    // The release list, and its status filter, by what each release is now.
    await page.goto(`/apps/${tenant.applicationId}/releases`);
    const row = (version: string) => page.getByTestId("release-list").getByRole("row").filter({ has: page.getByRole("link", { name: version, exact: true }) });
    await expect(row("1.2.0").getByTestId("release-status")).toHaveText("reverted");
    await expect(row("1.1.0").getByTestId("release-status")).toHaveText("accepted");
    await expect(row("1.0.0").getByTestId("release-status")).toHaveText("live in production");
    await screenshot(page, "releases-after-revert");
    await page.getByLabel("Status").selectOption({ label: "reverted" });
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/status=REVERTED/);
    await expect(page.getByTestId("release-list").getByRole("link", { name: /^\d/ })).toHaveText(["1.2.0"]);
    await page.getByLabel("Status").selectOption({ label: "live in production" });
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page.getByTestId("release-list").getByRole("link", { name: /^\d/ })).toHaveText(["1.0.0"]);

    // The auditor's evidence page.
    await auditor.page.goto(`/audit/releases/${releases["1.2.0"]!.id}`);
    await expect(auditor.page.getByRole("heading", { level: 1 })).toHaveText(`Evidence: ${app} 1.2.0`);
    await expect(auditor.page.getByTestId("release-status")).toHaveText("reverted");
    await expect(auditor.page.getByTestId("production-state")).toHaveText(reverted);
    await screenshot(auditor.page, "evidence-reverted");

    // Ops' home: 1.1.0 is newer than what runs now and may go; the reverted one is not offered, nor the one running.
    expect(await promoteItems()).toEqual([expect.stringContaining(`Promote ${app} 1.1.0 to production`)]);

    // ---- deployed again later (the cause was elsewhere): live again; 1.0.0 was replaced, not reverted ----
    await deploy("1.2.0");
    await page.goto(releasePath("1.2.0"));
    await expect(page.getByTestId("release-summary").getByTestId("release-status")).toHaveText("live in production");
    await expect(page.getByTestId("production-state")).toHaveText("Live in Production.");
    await page.goto(releasePath("1.0.0"));
    await expect(page.getByTestId("release-summary").getByTestId("release-status")).toHaveText("superseded");
    await expect(page.getByTestId("production-state")).toHaveText(
      new RegExp(`^Was live in Production until 1\\.2\\.0 replaced it on \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC \\(deployed by ${ops.person.name}\\)\\. The deployment →$`),
    );
    await screenshot(page, "release-superseded");
    expect(await promoteItems()).toEqual([]);

    // ---- ops' inbox: each request to promote says whether it was done or overtaken, and opens its page in a new tab ----
    await page.goto("/inbox");
    const promote = (version: string) => page.getByTestId("notification").filter({ hasText: `Promote ${app} ${version}` });
    await expect(promote("1.2.0")).toHaveAttribute("data-resolved", "done");
    await expect(promote("1.2.0").getByTestId("notification-resolved")).toHaveText("done Live in production.");
    await expect(promote("1.0.0").getByTestId("notification-resolved")).toHaveText("done Promoted, since replaced in production.");
    await expect(promote("1.1.0")).toHaveAttribute("data-resolved", "moot");
    await expect(promote("1.1.0").getByTestId("notification-resolved")).toHaveText("no longer needed Production already runs 1.2.0.");
    for (const version of ["1.0.0", "1.1.0", "1.2.0"]) await expect(promote(version).getByLabel("unread")).toHaveCount(0);
    await screenshot(page, "inbox-resolved");
    const link = promote("1.1.0").getByRole("link");
    await expect(link).toHaveAttribute("target", "_blank");
    const [opened] = await Promise.all([page.waitForEvent("popup"), link.click()]);
    await expect(opened).toHaveURL(new RegExp(`/apps/${tenant.applicationId}$`));
    await opened.close();
  } finally {
    lane.stop();
    stopWeb();
  }
});
