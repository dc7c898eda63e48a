// Sites (data centres) from the browser. Ops put an environment's servers in two sites with a floor of one serving
// server per site and a pause after the first site; a deployment (agents played by the test over the real agent
// API) goes through the first site one server at a time, pauses and says so on its page, grouped by site; a developer
// sees the pause but may not continue it; ops continue it and the rollout finishes the second site; the release's
// evidence page records the pause and who continued it, and when.
import type { Page } from "@playwright/test";
import { addServer, clickAndConfirm, completeRollout, createRelease, expect, keepOnline, setProductionGates, signedInMember, SimulatedAgent, test } from "./fixtures";
import { screenshot } from "./support/releases";

/** On the environment page's Sites card, with "Add a site" open: adds a site. */
async function addSite(page: Page, name: string): Promise<void> {
  const sites = page.getByRole("region", { name: "Sites" });
  await sites.getByLabel("Site name").fill(name);
  await sites.getByRole("button", { name: "Add site" }).click();
  await expect(sites.getByTestId(`site-${name}`)).toBeVisible();
}

/** Puts a server in a site with the Sites card's form. */
async function putInSite(page: Page, server: string, site: string): Promise<void> {
  const form = page.getByRole("region", { name: "Sites" }).getByTestId("site-assign");
  await form.getByLabel("Server").selectOption({ label: `${server} (no site)` });
  await form.getByLabel("Site").selectOption({ label: site });
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("status")).toHaveText(`${server} is in site ${site}.`);
}

test("ops set up two sites, a deployment pauses after the first until ops continue it, and the evidence records both", async ({ adminPage: admin, tenant, newBrowserPage, request }) => {
  test.setTimeout(240_000);
  await setProductionGates(admin, tenant.applicationId, false);
  const ops = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Sina", last: "Ops", role: "Ops" });
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dario", last: "Developer", role: "Developer" });
  const agents: SimulatedAgent[] = [];
  for (const name of ["web-1", "web-2", "web-3", "web-4"]) agents.push(await SimulatedAgent.enroll(request, await addServer(ops.page, tenant.applicationId, "Production", name), name));
  const stopHeartbeats = keepOnline(agents);
  try {
    const release = await createRelease(tenant.applicationId, dev.person.email, "1.0.0");
    const page = ops.page;

    // ---- ops: two sites, two servers each, a floor of one and a pause after the first site ----
    await page.goto(`/apps/${tenant.applicationId}`);
    await page.getByTestId("environments").getByRole("link", { name: "3. Production" }).click();
    const sites = page.getByRole("region", { name: "Sites" });
    await expect(sites.getByTestId("site-summary")).toHaveText(/^No sites: the servers roll out as one site\./);
    await sites.locator("summary", { hasText: "Add a site to Production" }).click();
    await addSite(page, "fra-1");
    await addSite(page, "ams-1");
    for (const [server, site] of [["web-1", "fra-1"], ["web-2", "fra-1"], ["web-3", "ams-1"], ["web-4", "ams-1"]] as const) await putInSite(page, server, site);
    const settings = sites.getByTestId("site-settings");
    await settings.getByLabel("Servers of each site that keep serving").fill("1");
    await settings.getByLabel("Pause after the first site until someone continues (reverts never pause)").check();
    await settings.getByRole("button", { name: "Save site settings" }).click();
    await expect(settings.getByRole("status")).toHaveText("Site settings saved.");
    await page.reload();
    await expect(sites.getByTestId("site-summary")).toHaveText(
      "Rollouts go site by site, in the order below; at least 1 server of each site keeps serving; each deployment pauses after its first site until someone continues it.",
    );
    await expect(sites.getByTestId("site-order")).toHaveText("Next rollout: fra-1 → ams-1");
    await expect(sites.getByTestId("site-fra-1")).toContainText("web-1");
    await expect(sites.getByTestId("site-ams-1")).toContainText("web-4");
    await screenshot(page, "environment-sites");

    // ---- ops deploy; the agents run what they get until the rollout waits ----
    await page.goto(`/apps/${tenant.applicationId}`);
    const card = page.getByTestId("deploy-Production");
    await card.locator("summary", { hasText: "Deploy to Production" }).click();
    await card.getByLabel("Release").selectOption({ label: "1.0.0" });
    await card.getByRole("button", { name: "Deploy to Production" }).click();
    await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
    const deploymentUrl = page.url();
    await completeRollout(agents);

    const paused = page.getByTestId("paused");
    await expect(paused).toContainText(`Paused after site fra-1: continue when ready. Ops of ${tenant.application} may continue it; the rollout then goes on with site ams-1.`);
    await expect(page.getByTestId("deployment-status")).toContainText("paused");
    const fra = page.getByRole("region", { name: "Site fra-1" });
    const ams = page.getByRole("region", { name: "Site ams-1" });
    await expect(fra.getByRole("heading", { level: 3 })).toHaveText("1. Site fra-1 2/2 updated");
    await expect(ams.getByRole("heading", { level: 3 })).toHaveText("2. Site ams-1 0/2 updated next, once continued");
    await expect(ams.getByTestId("rollout-server-web-3")).toContainText("waiting until someone continues the rollout");
    await expect(page.getByTestId("site-plan")).toHaveText("fra-1 → ams-1 · at least 1 server of each site serving throughout · pauses after the first site");
    await screenshot(page, "deployment-paused-after-site");

    // ---- a developer sees the pause, not the button ----
    await dev.page.goto(deploymentUrl);
    await expect(dev.page.getByTestId("paused")).toContainText("Paused after site fra-1: continue when ready.");
    await expect(dev.page.getByRole("button", { name: "Continue to the next site" })).toHaveCount(0);

    // ---- ops continue; the second site follows ----
    await clickAndConfirm(paused.getByRole("button", { name: "Continue to the next site" }), "Continue the deployment of 1.0.0 to Production with site ams-1?");
    await expect(page.getByTestId("paused")).toHaveCount(0);
    await completeRollout(agents);
    await expect(page.getByTestId("deployment-status")).toHaveText("succeeded");
    await expect(ams.getByRole("heading", { level: 3 })).toHaveText("2. Site ams-1 2/2 updated");
    await expect(page.getByTestId("pause-record")).toHaveText(new RegExp(`^after site fra-1, .+; continued by ${ops.person.name} at .+$`));

    // ---- the release's evidence: the pause by the engine, the continue by ops ----
    await admin.goto(`/audit/releases/${release.id}`);
    const events = admin.getByRole("region", { name: /^Every event/ }).getByRole("row");
    await expect(events.filter({ hasText: "DEPLOYMENT_PAUSED" })).toContainText("system: rollout engine");
    await expect(events.filter({ hasText: "DEPLOYMENT_PAUSED" })).toContainText(`paused after site fra-1: it goes on with site ams-1 when someone continues it`);
    await expect(events.filter({ hasText: "DEPLOYMENT_CONTINUED" })).toContainText(ops.person.email);
    await expect(events.filter({ hasText: "DEPLOYMENT_CONTINUED" })).toContainText("after site fra-1");
    await screenshot(admin, "evidence-site-pause");
  } finally {
    stopHeartbeats();
  }
});
