// Full-page pictures of the main pages, taken on every run so a person can look at what the UI shows. They go to
// test-results/screenshots/; with UPDATE_SCREENSHOTS=1 they replace the ones in docs/screenshots/ (the README's).
// The names are fixed and readable because the pictures are documentation; each run starts on a fresh database
// (scripts/test.ts), so they cannot collide with an earlier run, and other tests use unique names.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Page } from "@playwright/test";
import {
  addBalancer,
  addServer,
  completeRollout,
  createApplication,
  createCustomer,
  createRelease,
  createUser,
  expect,
  grantRole,
  keepOnline,
  putBehindBalancer,
  signInFirstTime,
  SimulatedAgent,
  test,
} from "./fixtures";

const dir = path.resolve(import.meta.dirname, process.env.UPDATE_SCREENSHOTS === "1" ? "../docs/screenshots" : "../test-results/screenshots");

async function shot(page: Page, name: string): Promise<void> {
  await page.mouse.move(0, 0); // no hover highlight on the last button clicked
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true, animations: "disabled" });
}

test.beforeAll(async () => {
  await mkdir(dir, { recursive: true });
});

test("screenshots of the main pages", async ({ adminPage: page, newBrowserPage, request }) => {
  test.setTimeout(180_000);
  const visitor = await newBrowserPage();
  await visitor.goto("/signin");
  await expect(visitor.getByRole("button", { name: "Sign in" })).toBeVisible();
  await shot(visitor, "sign-in");

  await createCustomer(page, "Acme Retail");
  const webshop = await createApplication(page, "Acme Retail", "Webshop", "The customer-facing shop at shop.acme.example");
  await createCustomer(page, "Globex");

  // Home, with the administrator's set-up work waiting.
  await page.goto("/");
  const work = page.getByRole("region", { name: "What needs you now" });
  await expect(work.getByRole("link", { name: "Add an application for Globex", exact: true })).toBeVisible();
  await expect(work.getByRole("link", { name: "Give people roles on Webshop", exact: true })).toBeVisible();
  await shot(page, "home");

  await page.goto("/admin/customers");
  await expect(page.getByRole("region", { name: "Acme Retail", exact: true }).getByRole("link", { name: "Webshop", exact: true })).toBeVisible();
  await shot(page, "customers");

  const carla = { name: "Carla Customer", email: "carla@acme-retail.example" };
  await createUser(page, carla, "Acme Retail");
  await grantRole(page, webshop, carla, "Customer tester");
  const ana = { name: "Ana Developer", email: "ana@releasegate.example" };
  const anaOneTimePassword = await createUser(page, ana);
  await expect(page.getByTestId("shown-once")).toBeVisible();
  await shot(page, "users");

  await grantRole(page, webshop, ana, "Developer");
  await page.goto(`/apps/${webshop}`);
  await expect(page.getByRole("region", { name: "People", exact: true })).toContainText("Ana Developer");
  await shot(page, "application");

  await page.goto(`/apps/${webshop}/settings`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Webshop: environments & people");
  await shot(page, "settings");

  // A rolling deployment to QA's three servers, mid-way and after it failed, and the environment's page.
  const agents: SimulatedAgent[] = [];
  for (const name of ["web-1", "web-2", "web-3"]) agents.push(await SimulatedAgent.enroll(request, await addServer(page, webshop, "QA", name), name));
  const stopHeartbeats = keepOnline(agents);
  try {
    await page.goto(`/apps/${webshop}`);
    await page.getByTestId("environments").getByRole("link", { name: "1. QA" }).click();
    const settings = page.getByRole("region", { name: "Rollout settings" });
    await settings.getByLabel("Strategy").selectOption("ROLLING");
    await settings.getByLabel("Health check URL").fill("http://127.0.0.1:8080/health");
    await settings.getByLabel("Stop", { exact: true }).fill("systemctl stop webshop");
    await settings.getByLabel("Start", { exact: true }).fill("systemctl start webshop");
    await settings.getByLabel("Persistent paths").fill("storage/uploads");
    await settings.getByRole("button", { name: "Save rollout settings" }).click();
    await expect(settings.getByRole("status")).toHaveText("Rollout settings saved.");
    await addBalancer(page, "haproxy", "/run/haproxy/admin.sock");
    for (const [i, name] of ["web-1", "web-2", "web-3"].entries()) {
      await expect((await putBehindBalancer(page, "haproxy", name, "be_webshop_qa", `web${i + 1}`)).getByRole("status")).toHaveText(`${name} is behind haproxy.`);
    }
    for (const version of ["1.3.0", "1.4.0"]) await createRelease(webshop, ana.email, version);

    const developer = await newBrowserPage();
    await signInFirstTime(developer, ana.email, anaOneTimePassword);
    const deploy = async (version: string, reason: string) => {
      await developer.goto(`/apps/${webshop}`);
      const qa = developer.getByTestId("deploy-QA");
      await qa.locator("summary", { hasText: "Deploy to QA" }).click();
      await qa.getByLabel("Release").selectOption({ label: version });
      await qa.getByLabel("Reason (optional)").fill(reason);
      await qa.getByRole("button", { name: "Deploy to QA" }).click();
      await expect(developer.getByRole("heading", { level: 1 })).toHaveText(`Deploy ${version} to QA`);
    };
    await deploy("1.3.0", "Sprint 41");
    await completeRollout(agents);
    await expect(developer.getByTestId("deployment-status")).toHaveText("succeeded");

    await deploy("1.4.0", "Sprint 42: faster checkout");
    const [web1, web2] = agents as [SimulatedAgent, SimulatedAgent, SimulatedAgent];
    for (const agent of agents) {
      const stage = await agent.expectJob("STAGE");
      await agent.report(stage, { status: "RUNNING", phase: "downloading", progress: 0.4 });
      await agent.log(stage, 0, `Downloading webshop-1.4.0.tar.gz (48.2 MB)\nVerified size and SHA-256\nExtracted into releases/1.4.0\nLinked persistent paths from shared/: storage/uploads\n`);
      await agent.report(stage, { status: "SUCCEEDED", message: "1.4.0 staged" });
    }
    await web1.succeed(await web1.expectJob("ACTIVATE"));
    const activation = await web2.expectJob("ACTIVATE");
    await web2.report(activation, { status: "RUNNING", phase: "health-check", message: "Waiting for http://127.0.0.1:8080/health to answer 1.4.0" });
    await web2.log(activation, 0, "Switching web-2 from 1.3.0 to 1.4.0\n$ drain: HAProxy be_webshop_qa/web2\n$ stop: systemctl stop webshop\ncurrent -> releases/1.4.0\n$ start: systemctl start webshop\n");
    await expect(developer.getByTestId("progress-label")).toHaveText("4 of 6 steps · 1/3 servers updated");
    await expect(developer.getByTestId("rollout-server-web-2")).toContainText("health-check");
    await developer.getByTestId("rollout-server-web-1").getByTestId("step-STAGE").locator("summary", { hasText: "Log" }).click();
    await expect(developer.getByTestId("rollout-server-web-1").getByTestId("step-log")).toContainText("Extracted into releases/1.4.0");
    await shot(developer, "deployment-running");
    await developer.goto(`/apps/${webshop}`);
    await expect(developer.getByTestId("deploy-QA").getByTestId("active-deployment")).toContainText("1/3 servers");
    await shot(developer, "application-rollout");
    await developer.goBack();
    await expect(developer.getByTestId("live-indicator")).toHaveAttribute("data-mode", "live");

    await web2.log(activation, 1, "Health check http://127.0.0.1:8080/health: HTTP 500 (12 attempts)\n");
    await web2.report(activation, { status: "FAILED", message: "Health check http://127.0.0.1:8080/health did not pass within 60s: HTTP 500" });
    await completeRollout(agents);
    await expect(developer.getByTestId("deployment-status")).toHaveText("failed");
    await expect(developer.getByTestId("failure-reason")).toContainText("Rolled back to the previous release: web-1, web-2.");
    await shot(developer, "deployment-failed");

    await page.reload();
    await expect(page.getByTestId("deployment-history").locator("tbody tr")).toHaveCount(2);
    await shot(page, "environment");
  } finally {
    stopHeartbeats();
  }
});
