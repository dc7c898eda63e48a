// A request that fails on the way during an action (the network drops it, the server restarts mid-request, a proxy
// answers 502 instead) leaves the person on their page with what they typed, and a message on the form saying that
// the outcome is unknown and to check it: never the whole-page "Something went wrong". The browser's server-action
// POSTs are broken with page.route; the forms: an administrator's form, sign-out, the release upload's save, the
// deploy panel, the customer's rejection (sending a verdict again is safe: the form says so) and the inbox.
import type { Page, Route } from "@playwright/test";
import { createRelease, expect, signedInMember, test, uniq } from "./fixtures";
import { customerTester, releaseInAcceptance, releaseLane, reviewPath } from "./support/decisions";
import { fillReleaseForm, generateArtifact, pickFile, saveRelease, screenshot, uploadForm, waitUntilUploaded } from "./support/releases";

const LOST = "The request did not reach Releasegate or its answer was lost. Check whether it took effect before trying again.";
const RETRY_SAFE = "The request did not reach Releasegate or its answer was lost. Send it again: it takes effect only once.";

type Break = "unreachable" | "answer-lost" | "bad-gateway";

/**
 * Breaks the next server action the page posts: `unreachable` never reaches the server (network down); `answer-lost`
 * reaches it, is carried out, and its answer never arrives (a restart mid-request); `bad-gateway` gets a proxy's 502
 * page instead of the answer. Resolves once it has happened.
 */
async function breakNextAction(page: Page, how: Break): Promise<() => Promise<void>> {
  let broke = false;
  let done!: () => void;
  const happened = new Promise<void>((resolve) => (done = resolve));
  const handler = async (route: Route) => {
    const request = route.request();
    if (broke || request.method() !== "POST" || request.headers()["next-action"] === undefined) return route.fallback();
    broke = true;
    if (how === "answer-lost") await route.fetch();
    if (how === "bad-gateway") await route.fulfill({ status: 502, contentType: "text/html", body: "<html><body>502 Bad Gateway</body></html>" });
    else await route.abort("connectionreset");
    done();
  };
  await page.route("**/*", handler);
  return async () => {
    await happened;
    await page.unroute("**/*", handler);
  };
}

/** The page is still the one the person was on: no error page. */
async function expectPageKept(page: Page, heading: string | RegExp) {
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
  await expect(page.getByText("Something went wrong")).toHaveCount(0);
}

test("an administrator's form, sign-out and sign-in: the outcome is unknown, said on the form, with the input kept", async ({ adminPage: page, admin }) => {
  await page.goto("/admin/customers");
  const form = page.getByRole("region", { name: "New customer", exact: true });
  for (const how of ["unreachable", "bad-gateway"] as const) {
    const name = uniq(`Lost ${how}`);
    await form.getByLabel("Name").fill(name);
    const broken = await breakNextAction(page, how);
    await form.getByRole("button", { name: "Create customer" }).click();
    await broken();
    await expect(form.getByRole("alert")).toHaveText(LOST);
    await expect(form.getByLabel("Name")).toHaveValue(name);
    await expect(form.getByRole("button", { name: "Create customer" })).toBeEnabled();
    await expectPageKept(page, "Customers & applications");
    if (how === "unreachable") await screenshot(page, "request-lost-admin-form");
  }

  // The request went through, only its answer was lost: the page says to check, and checking shows it took effect.
  const done = uniq("Lost answer");
  await form.getByLabel("Name").fill(done);
  const lost = await breakNextAction(page, "answer-lost");
  await form.getByRole("button", { name: "Create customer" }).click();
  await lost();
  await expect(form.getByRole("alert")).toHaveText(LOST);
  await expect(form.getByLabel("Name")).toHaveValue(done);
  await page.reload();
  await expect(page.getByRole("region", { name: done, exact: true })).toBeVisible();

  // Sign-out that does not get through leaves the person signed in, and says so.
  const signOut = await breakNextAction(page, "unreachable");
  await page.getByRole("button", { name: "Sign out" }).click();
  await signOut();
  await expect(page.getByTestId("sign-out").getByRole("alert")).toHaveText(LOST);
  await expectPageKept(page, "Customers & applications");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin$/);

  // Signing in when the answer does not come back: said on the form, not the error page.
  await page.route("**/api/auth/callback/credentials", (route) => route.abort("connectionreset"));
  await page.getByLabel("Email", { exact: true }).fill(admin.email);
  await page.getByLabel("Password", { exact: true }).fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("main").getByRole("alert")).toHaveText("Releasegate could not be reached, or its answer was lost. Try again in a moment.");
  await expect(page.getByLabel("Email", { exact: true })).toHaveValue(admin.email);
});

test("a form sent after signing out in another tab says nothing was done, and keeps the page and what was typed", async ({ adminPage: page }) => {
  await page.goto("/admin/customers");
  const form = page.getByRole("region", { name: "New customer", exact: true });
  const name = uniq("Signed out");
  await form.getByLabel("Name").fill(name);
  // Another tab of the same browser signs out (the session is gone for both).
  const other = await page.context().newPage();
  await other.goto("/");
  await other.getByRole("button", { name: "Sign out" }).click();
  await expect(other).toHaveURL(/\/signin$/);
  await other.close();

  await form.getByRole("button", { name: "Create customer" }).click();
  await expect(form.getByRole("alert")).toHaveText(
    "You are signed out (in another tab, or your session ended), so nothing was done. Sign in again in a new tab, then send this form again.",
  );
  await expect(form.getByLabel("Name")).toHaveValue(name);
  await expectPageKept(page, "Customers & applications");
});

test("the release upload's save: the uploaded file and the fields stay, and saving again works", async ({ adminPage: admin, tenant, newBrowserPage }, testInfo) => {
  const artifact = await generateArtifact(testInfo.outputPath("shop-3.1.0.tar.gz"), 256 * 1024);
  const { page } = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Una", last: "Uploader", role: "Developer" });
  await page.goto(`/apps/${tenant.applicationId}/releases/new`);
  await pickFile(page, artifact.path);
  await fillReleaseForm(page, { version: "3.1.0", notes: "## Faster search" });
  await waitUntilUploaded(page);
  const broken = await breakNextAction(page, "unreachable");
  await saveRelease(page);
  await broken();
  await expect(uploadForm(page).getByRole("alert").filter({ hasText: LOST })).toHaveText(LOST);
  await expect(uploadForm(page).getByLabel("Version")).toHaveValue("3.1.0");
  await expect(uploadForm(page).getByLabel("Release notes")).toHaveValue("## Faster search");
  await expect(page.getByTestId("upload-status")).toHaveText(/^Uploaded · /);
  await expectPageKept(page, `New release of ${tenant.application}`);
  await screenshot(page, "request-lost-upload");

  await saveRelease(page);
  await expect(page).toHaveURL(new RegExp(`/apps/${tenant.applicationId}/releases/[0-9a-f-]{36}$`), { timeout: 30_000 });
  await expect(page.getByTestId("artifact-sha256")).toHaveText(artifact.sha256);
});

test("the deploy panel, the customer's rejection and the inbox keep the page and what was typed", async ({ adminPage: admin, tenant, newBrowserPage, request }) => {
  test.setTimeout(180_000);
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dora", last: "Developer", role: "Developer" });
  const customer = await customerTester(admin, tenant, newBrowserPage);
  const lane = await releaseLane(admin, dev.page, request, tenant.applicationId);
  try {
    // ---- the deploy panel ----
    await createRelease(tenant.applicationId, dev.person.email, "0.9.0");
    let page = dev.page;
    await page.goto(`/apps/${tenant.applicationId}`);
    const qa = page.getByTestId("deploy-QA");
    await qa.locator("summary", { hasText: "Deploy to QA" }).click();
    await qa.getByLabel("Release", { exact: true }).selectOption({ label: "0.9.0" });
    await qa.getByLabel("Reason (optional)").fill("Smoke test of the search");
    const deploy = await breakNextAction(page, "unreachable");
    await qa.getByRole("button", { name: "Deploy to QA" }).click();
    await deploy();
    await expect(qa.getByRole("alert")).toHaveText(LOST);
    await expect(qa.getByLabel("Reason (optional)")).toHaveValue("Smoke test of the search");
    await expect(qa.getByLabel("Release", { exact: true })).toHaveValue(/[0-9a-f-]{36}/);
    await expectPageKept(page, tenant.application);
    await screenshot(page, "request-lost-deploy");

    // ---- the customer's rejection ----
    const release = await releaseInAcceptance(lane, request, tenant.applicationId, dev.person.email, "1.0.0");
    page = customer.page;
    await page.goto(reviewPath(tenant.applicationId, release.id));
    const reason = page.getByLabel("Why reject it? (required: the developers read this)");
    await reason.fill("The search finds nothing with umlauts");
    const reject = await breakNextAction(page, "bad-gateway");
    await page.getByRole("button", { name: "Reject 1.0.0" }).click();
    await reject();
    // A verdict takes effect once however often it is sent: the form says to send it again.
    await expect(page.getByTestId("decision-actions").getByRole("alert")).toHaveText(RETRY_SAFE);
    await expect(reason).toHaveValue("The search finds nothing with umlauts");
    await expectPageKept(page, `Review ${tenant.application} 1.0.0`);
    await screenshot(page, "request-lost-reject");

    // ---- the inbox: opening an item marks it read; when that does not get through, it says so and stays unread ----
    await expect(async () => {
      await page.goto("/inbox");
      await expect(page.getByTestId("notification").filter({ hasText: `Test ${tenant.application} 1.0.0` })).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    const item = page.getByTestId("notification").filter({ hasText: `Test ${tenant.application} 1.0.0` });
    const markRead = await breakNextAction(page, "unreachable");
    const [opened] = await Promise.all([page.waitForEvent("popup"), item.getByRole("link", { name: `Test ${tenant.application} 1.0.0` }).click()]);
    await markRead();
    await opened.close();
    await expect(item.getByRole("alert")).toContainText("Could not mark it read");
    await expect(item).toHaveAttribute("data-read", "false");
    await expectPageKept(page, "Inbox");

    // ---- the rejection again: it is recorded, its answer is lost; sent once more, the page shows the verdict ----
    await page.goto(reviewPath(tenant.applicationId, release.id));
    await reason.fill("The search finds nothing with umlauts");
    const answer = await breakNextAction(page, "answer-lost");
    await page.getByRole("button", { name: "Reject 1.0.0" }).click();
    await answer();
    await expect(page.getByTestId("decision-actions").getByRole("alert")).toHaveText(RETRY_SAFE);
    await expect(reason).toHaveValue("The search finds nothing with umlauts");
    await screenshot(page, "request-lost-verdict-retry");
    await page.getByRole("button", { name: "Reject 1.0.0" }).click();
    await expect(page.getByTestId("decision-made")).toContainText(/^You rejected 1\.0\.0 in Acceptance on .+ UTC:\s*“The search finds nothing with umlauts”$/);
    await expect(page.getByTestId("decision-actions")).toHaveCount(0);
    await expect(page.getByTestId("verdicts").getByRole("listitem")).toHaveCount(1);
  } finally {
    lane.stop();
  }
});
