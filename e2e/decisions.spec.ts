// Customer acceptance in the browser. A developer's pipeline deploys a release candidate to QA and Acceptance (agents
// played over the real agent API); the customer tester is told in their inbox and on the home page, opens the
// review page, sees where to test and what changed, and accepts it. The developer who uploaded it, though they also
// hold the customer role, has no Accept button and is told why; their replay of the customer's request is refused.
// An approver then approves it, and the application's webhook received the acceptance, signed. A rejection needs a
// reason, and the developer sees it; ops then cannot promote it, in the browser or through the API. Another tenant's
// customer sees nothing and can do nothing. Ops freeze production and lift the freeze; others see it but cannot lift
// it (e2e/promotion.spec.ts shows a freeze blocking a promotion).
import { createHmac } from "node:crypto";
import { addServer, clickAndConfirm, createApplication, createCustomer, expect, keepOnline, signedInMember, SimulatedAgent, test, uniq } from "./fixtures";
import {
  captureAction,
  customerTester,
  grantAnotherRole,
  releaseInAcceptance,
  releaseLane,
  replayAction,
  reviewPath,
  screenshot,
  setEnvironmentUrl,
  WebhookReceiver,
} from "./support/decisions";

const ACCEPTANCE_URL = "https://acceptance.shop.example.test";

test("the uploader cannot accept their own release; a customer accepts it in the browser; another tenant's customer sees nothing", async ({
  adminPage: admin,
  tenant,
  newBrowserPage,
  request,
}) => {
  test.setTimeout(180_000);
  await setEnvironmentUrl(admin, tenant.applicationId, "Acceptance", 2, ACCEPTANCE_URL);
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dana", last: "Developer", role: "Developer" });
  // Also a customer tester: separation of duties must hold whatever roles the uploader has.
  await grantAnotherRole(admin, tenant.applicationId, dev.person, "Customer tester");
  const customer = await customerTester(admin, tenant, newBrowserPage);
  const approver = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Abe", last: "Approver", role: "Approver" });
  const receiver = await WebhookReceiver.start();
  const lane = await releaseLane(admin, dev.page, request, tenant.applicationId);
  try {
    // An administrator wires a webhook for the application; its signing secret is shown once.
    await admin.goto(`/apps/${tenant.applicationId}/webhooks`);
    const form = admin.getByRole("region", { name: "New webhook", exact: true });
    await form.getByLabel("Receiver URL").fill(`${receiver.url}/releasegate`);
    await form.getByRole("button", { name: "Add webhook" }).click();
    await expect(form.getByRole("status")).toHaveText(`Webhook to ${new URL(receiver.url).host} added.`);
    const secret = (await form.getByTestId("shown-once-value").textContent())?.trim() ?? "";
    expect(secret).toMatch(/^rgw_/);
    await admin.reload();
    await expect(admin.getByText(secret)).toHaveCount(0);

    const release = await releaseInAcceptance(lane, request, tenant.applicationId, dev.person.email, "1.0.0");
    const review = reviewPath(tenant.applicationId, release.id);

    // ---- the uploader: no buttons, and why ----
    await dev.page.goto(review);
    await expect(dev.page.getByRole("heading", { level: 1 })).toHaveText(`Review ${tenant.application} 1.0.0`);
    await expect(dev.page.getByTestId("decision-why")).toHaveText("You uploaded 1.0.0, so you can neither accept nor approve it: another person must (separation of duties).");
    await expect(dev.page.getByRole("button", { name: /^Accept/ })).toHaveCount(0);
    await expect(dev.page.getByRole("button", { name: /^Reject/ })).toHaveCount(0);
    await expect(dev.page.getByTestId("decision-state")).toContainText("Waiting for a customer's test in Acceptance.");
    await screenshot(dev.page, "review-uploader");

    // ---- the customer: told in the inbox (the notification sweep reports the deployment) and on the home page ----
    const page = customer.page;
    await expect(async () => {
      await page.goto("/inbox");
      await expect(page.getByTestId("notification").filter({ hasText: `Test ${tenant.application} 1.0.0` })).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    await expect(page.getByTestId("notification").filter({ hasText: `Test ${tenant.application} 1.0.0` })).toContainText(`It runs in Acceptance at ${ACCEPTANCE_URL}`);
    await screenshot(page, "inbox");
    await page.goto("/");
    const item = page.getByTestId("work-items").getByRole("listitem").filter({ hasText: `Test ${tenant.application} 1.0.0` });
    await expect(item).toContainText(`Live in Acceptance at ${ACCEPTANCE_URL}: accept or reject it.`);

    // Opening it from the inbox opens the review page in a new tab (the inbox stays) and marks it read.
    await page.goto("/inbox");
    const [opened] = await Promise.all([page.waitForEvent("popup"), page.getByRole("link", { name: `Test ${tenant.application} 1.0.0` }).click()]);
    await expect(opened).toHaveURL(new RegExp(`${review}\\?deployment=[0-9a-f-]{36}$`));
    await expect(opened.getByRole("heading", { level: 1 })).toHaveText(`Review ${tenant.application} 1.0.0`);
    await expect(page.getByTestId("notification").filter({ hasText: `Test ${tenant.application} 1.0.0` })).toHaveAttribute("data-read", "true");
    await page.goto(opened.url());
    await opened.close();
    await expect(page.getByTestId("acceptance-url")).toHaveAttribute("href", ACCEPTANCE_URL);
    await expect(page.getByTestId("changes-since-production")).toContainText("(nothing in Production yet)");
    // The version once: notes that only name the release ("Release 1.0.0") give no title beside it.
    await expect(page.getByTestId("changes-since-production").getByRole("listitem")).toHaveText(/^1\.0\.0\s*this release$/);
    await expect(page.getByRole("region", { name: "Release notes" })).toContainText("Release 1.0.0");
    await screenshot(page, "review-customer");
    const accepted = await captureAction(page, () => page.getByRole("button", { name: "Accept 1.0.0" }).click());
    await expect(page.getByTestId("decision-state")).toContainText(`Accepted by ${customer.person.name}; 0 of 1 approval for Production.`);
    await expect(page.getByTestId("verdicts")).toContainText(`accepted by ${customer.person.name} in Acceptance`);
    await expect(page.getByTestId("verdicts")).toContainText(release.sha256.slice(0, 12));
    await expect(page.getByRole("button", { name: /^Accept/ })).toHaveCount(0);
    // The verdict shows in place of the forms: who, when; a rejection is only a second thought, behind its question.
    await expect(page.getByTestId("decision-made")).toHaveText(/^You accepted 1\.0\.0 in Acceptance on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\.$/);
    await expect(page.getByRole("button", { name: /^Reject/ })).toHaveCount(0);
    await expect(page.getByTestId("reject-after-acceptance").locator("summary")).toHaveText("Found a problem since? Reject 1.0.0…");
    await expect(page.getByTestId("decision-why")).toHaveCount(0);
    await screenshot(page, "review-accepted");
    // Once accepted, nobody is asked to test it any more: the request says it is done, and by whom.
    await page.goto("/inbox");
    const testItem = page.getByTestId("notification").filter({ hasText: `Test ${tenant.application} 1.0.0` });
    await expect(testItem).toHaveAttribute("data-read", "true");
    await expect(testItem).toHaveAttribute("data-resolved", "done");
    await expect(testItem.getByTestId("notification-resolved")).toHaveText(`done Accepted by ${customer.person.name}.`);

    // The webhook received the acceptance, signed with the secret: HMAC-SHA256(secret, "<timestamp>.<body>").
    await expect.poll(() => receiver.received.filter((r) => r.headers["x-releasegate-event"] === "release.accepted").length).toBe(1);
    const delivery = receiver.received.find((r) => r.headers["x-releasegate-event"] === "release.accepted")!;
    const signed = createHmac("sha256", secret).update(`${delivery.headers["x-releasegate-timestamp"]}.${delivery.body}`).digest("hex");
    expect(delivery.headers["x-releasegate-signature"]).toBe(`sha256=${signed}`);
    expect(JSON.parse(delivery.body)).toMatchObject({ type: "release.accepted", release: { version: "1.0.0", sha256: release.sha256 }, verdict: { by: { name: customer.person.name } } });
    await admin.goto(`/apps/${tenant.applicationId}/webhooks`);
    await expect(admin.getByTestId("webhook-deliveries").getByRole("row").filter({ hasText: "Accepted" })).toContainText("delivered");
    await screenshot(admin, "webhooks");

    // ---- the uploader replays the customer's request with their own session: refused, nothing changes ----
    expect(await replayAction(dev.page, accepted)).toContain("You uploaded 1.0.0, so you can neither accept nor approve it");
    await dev.page.goto(review);
    await expect(dev.page.getByTestId("verdicts").getByRole("listitem")).toHaveCount(1);
    await expect(dev.page.getByTestId("decision-state")).toContainText(`Accepted by ${customer.person.name}`);

    // ---- another tenant's customer: the page does not exist for them, and the replay finds nothing ----
    const otherCustomer = uniq("Other Customer");
    await createCustomer(admin, otherCustomer);
    const otherAppId = await createApplication(admin, otherCustomer, uniq("Other App"));
    const outsider = await customerTester(admin, { customer: otherCustomer, application: "", applicationId: otherAppId }, newBrowserPage, "Otto");
    const response = await outsider.page.goto(review);
    expect(response?.status()).toBe(404);
    await expect(outsider.page.getByText("Page not found")).toBeVisible();
    await expect(outsider.page.getByText("1.0.0")).toHaveCount(0);
    await outsider.page.goto("/");
    await expect(outsider.page.getByText(tenant.application)).toHaveCount(0);
    expect(await replayAction(outsider.page, accepted)).toContain("Release not found.");
    await outsider.page.goto("/inbox");
    await expect(outsider.page.getByText(tenant.application)).toHaveCount(0);
    await dev.page.reload();
    await expect(dev.page.getByTestId("verdicts").getByRole("listitem")).toHaveCount(1);

    // ---- the approver approves it for production ----
    await approver.page.goto(review);
    await approver.page.getByLabel("Comment (optional)").fill("CAB-42");
    await approver.page.getByRole("button", { name: "Approve 1.0.0 for Production" }).click();
    await expect(approver.page.getByTestId("decision-state")).toContainText("Accepted and approved: ready for ops to promote.");
    await expect(approver.page.getByTestId("approvals")).toContainText(`approved by ${approver.person.name} for Production`);
    await expect(approver.page.getByTestId("approvals")).toContainText("CAB-42");
    // What they did, where the form was: no warning that it is "already approved".
    await expect(approver.page.getByTestId("decision-why")).toHaveCount(0);
    await expect(approver.page.getByTestId("decision-made")).toContainText(/You approved 1\.0\.0 for Production on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC:\s*“CAB-42”/);
    await expect(approver.page.getByRole("button", { name: /^Approve/ })).toHaveCount(0);
    await screenshot(approver.page, "review-approved");
  } finally {
    lane.stop();
    await receiver.stop();
  }
});

test("a rejection needs a reason, and the developers see it; a rejected release cannot be promoted", async ({ adminPage: admin, tenant, newBrowserPage, request }) => {
  test.setTimeout(180_000);
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dirk", last: "Developer", role: "Developer" });
  const colleague = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Cora", last: "Colleague", role: "Developer" });
  const customer = await customerTester(admin, tenant, newBrowserPage);
  const ops = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Oona", last: "Ops", role: "Ops" });
  const lane = await releaseLane(admin, dev.page, request, tenant.applicationId);
  const web = await SimulatedAgent.enroll(request, await addServer(admin, tenant.applicationId, "Production", "web-1"), "web-1");
  const stopWeb = keepOnline([web]);
  try {
    const release = await releaseInAcceptance(lane, request, tenant.applicationId, dev.person.email, "2.0.0");
    const page = customer.page;
    await page.goto(reviewPath(tenant.applicationId, release.id));
    const reject = page.getByRole("button", { name: "Reject 2.0.0" });
    await reject.click();
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("Check the form: Say what is wrong, so the developers can fix it.");
    await page.getByLabel("Why reject it? (required: the developers read this)").fill("The checkout button does nothing on mobile");
    await reject.click();
    await expect(page.getByTestId("decision-state")).toContainText(`Rejected by ${customer.person.name}: “The checkout button does nothing on mobile”`);
    await expect(page.getByRole("button", { name: /^(Accept|Reject)/ })).toHaveCount(0);
    // Uploading is the developers' to do: the customer is told who acts next, not asked to upload.
    await expect(page.getByTestId("release-decisions")).not.toContainText("Upload a fixed");

    // The developers, the one who uploaded it and their colleague: on the home page, in the inbox, and on the review
    // page.
    for (const { page: p } of [dev, colleague]) {
      await p.goto("/");
      const fix = p.getByTestId("work-items").getByRole("listitem").filter({ hasText: `${tenant.application} 2.0.0 was rejected` });
      await expect(fix).toContainText(`${customer.person.name}: “The checkout button does nothing on mobile”`);
      await p.goto("/inbox");
      const told = p.getByTestId("notification").filter({ hasText: `${tenant.application} 2.0.0 was rejected` });
      await expect(told).toContainText(`${customer.person.name} rejected it in Acceptance: “The checkout button does nothing on mobile”.`);
      await expect(told).toHaveAttribute("data-read", "false");
      await expect(told).toHaveAttribute("data-resolved", "open");
    }
    await screenshot(colleague.page, "inbox-rejected");
    const told = colleague.page.getByTestId("notification").filter({ hasText: `${tenant.application} 2.0.0 was rejected` });
    const [opened] = await Promise.all([colleague.page.waitForEvent("popup"), told.getByRole("link").click()]);
    await expect(opened).toHaveURL(new RegExp(`${reviewPath(tenant.applicationId, release.id)}$`));
    await expect(opened.getByTestId("verdict-reason")).toHaveText("“The checkout button does nothing on mobile”");
    await screenshot(opened, "review-rejected");
    await opened.close();

    // ---- ops cannot promote it: nothing to pick, and why; asked through the API instead, the server refuses ----
    await ops.page.goto(`/apps/${tenant.applicationId}`);
    const production = ops.page.getByTestId("deploy-Production");
    await production.locator("summary", { hasText: "Deploy to Production" }).click();
    await expect(production.getByText("No release can be deployed here yet.")).toBeVisible();
    const why = `2.0.0 was rejected by ${customer.person.name}: The checkout button does nothing on mobile. Next: its developers upload a fixed release candidate.`;
    await expect(production.getByRole("list", { name: "Why some releases cannot go to Production" })).toContainText(`2.0.0: ${why}`);
    await ops.page.goto(`/apps/${tenant.applicationId}/settings`);
    const tokens = ops.page.getByRole("region", { name: "New API token", exact: true });
    await tokens.getByLabel("Token name").fill("ops-cli");
    await tokens.getByRole("button", { name: "Create token" }).click();
    const token = (await tokens.getByTestId("shown-once-value").textContent())?.trim() ?? "";
    const refused = await request.post(`/api/v1/applications/${tenant.applicationId}/deployments`, {
      headers: { authorization: `Bearer ${token}` },
      data: { environment: "production", release: "2.0.0" },
    });
    expect(refused.status()).toBe(412);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(why);
    expect(await web.claim(), "nothing was sent to production").toBeNull();
    await ops.page.goto(`/apps/${tenant.applicationId}`);
    await expect(production.getByTestId("live-release")).toHaveText("No release deployed yet.");

    // ---- its evidence: the steps in the procedure's order, the rejection where the later ones would be ----
    await admin.goto(`/audit/releases/${release.id}`);
    const milestones = admin.getByTestId("milestones").getByRole("listitem");
    expect(await milestones.evaluateAll((rows) => rows.map((r) => [r.children[0]?.textContent, r.children[1]?.textContent]))).toEqual([
      ["Uploaded", expect.stringContaining(dev.person.email)],
      ["Deployed to QA", expect.stringContaining("API token ci")],
      ["Deployed to Acceptance", expect.stringContaining("API token ci")],
      ["Rejected by the customer", expect.stringContaining(customer.person.email)],
      ["Approved", `not taken: rejected by ${customer.person.email}`],
      ["Promoted to Production", `not taken: rejected by ${customer.person.email}`],
    ]);
    await screenshot(admin, "evidence-rejected");
  } finally {
    lane.stop();
    stopWeb();
  }
});

test("a release replaced in acceptance cannot be accepted: its review page says why, and no longer where to test it", async ({ adminPage: admin, tenant, newBrowserPage, request }) => {
  test.setTimeout(180_000);
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Rhea", last: "Developer", role: "Developer" });
  const customer = await customerTester(admin, tenant, newBrowserPage);
  const lane = await releaseLane(admin, dev.page, request, tenant.applicationId);
  try {
    const older = await releaseInAcceptance(lane, request, tenant.applicationId, dev.person.email, "3.0.0");
    await releaseInAcceptance(lane, request, tenant.applicationId, dev.person.email, "3.1.0");
    const page = customer.page;
    await page.goto(reviewPath(tenant.applicationId, older.id));
    await expect(page.getByTestId("decision-state")).toContainText("No longer in Acceptance: it runs 3.1.0 now.");
    await expect(page.getByRole("button", { name: "Accept 3.0.0" })).toHaveCount(0);
    await expect(page.getByTestId("decision-why")).toHaveText("3.0.0 no longer runs in Acceptance (it runs 3.1.0 now): only the release running there can be accepted.");
    await expect(page.getByTestId("test-it")).toHaveCount(0);
    await screenshot(page, "review-replaced-in-acceptance");
  } finally {
    lane.stop();
  }
});

test("when the uploader is the only one who could approve, the review page says an administrator must grant the role", async ({ adminPage: admin, tenant, newBrowserPage, request }) => {
  test.setTimeout(180_000);
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Solo", last: "Developer", role: "Developer" });
  await grantAnotherRole(admin, tenant.applicationId, dev.person, "Approver");
  const customer = await customerTester(admin, tenant, newBrowserPage);
  const lane = await releaseLane(admin, dev.page, request, tenant.applicationId);
  try {
    const release = await releaseInAcceptance(lane, request, tenant.applicationId, dev.person.email, "4.0.0");
    const page = customer.page;
    await page.goto(reviewPath(tenant.applicationId, release.id));
    await page.getByRole("button", { name: "Accept 4.0.0" }).click();
    await expect(page.getByTestId("decision-state")).toContainText(
      `Accepted by ${customer.person.name}; 0 of 1 approval for Production. Nobody else holds the Approver or Ops role on this application: an administrator must grant it.`,
    );
    await screenshot(page, "review-nobody-can-approve");
  } finally {
    lane.stop();
  }
});

test("ops freeze production with a reason and lift it; others see the freeze but cannot lift it", async ({ adminPage: admin, tenant, newBrowserPage }) => {
  const ops = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Olga", last: "Ops", role: "Ops" });
  const dev = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dino", last: "Developer", role: "Developer" });
  const page = ops.page;
  await page.goto(`/apps/${tenant.applicationId}/freezes`);
  const production = page.getByRole("region", { name: "Production", exact: true });
  await production.locator("summary", { hasText: "Freeze Production…" }).click();
  await production.getByLabel("Reason (shown to everyone who tries to deploy)").fill("Black Friday sales");
  await production.getByRole("button", { name: "Freeze Production" }).click();
  await expect(production.getByRole("alert")).toHaveText("Check the form: Enter when the freeze ends.");
  // Two hours from now, in the browser's own time zone (the form sends the instant).
  const until = await page.evaluate(() => {
    const d = new Date(Date.now() + 2 * 3_600_000);
    const p = (n: number) => String(n).padStart(2, "0");
    return { local: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`, iso: new Date(d.setSeconds(0, 0)).toISOString() };
  });
  await production.getByLabel("Until").fill(until.local);
  await production.getByRole("button", { name: "Freeze Production" }).click();
  await expect(production.getByRole("status")).toContainText(`until ${until.iso.slice(0, 16).replace("T", " ")} UTC.`);
  const freeze = page.getByTestId("freezes-Production").getByTestId("freeze");
  await expect(freeze).toContainText("frozen now");
  await expect(freeze).toContainText("Black Friday sales");
  await expect(freeze).toContainText(`by ${ops.person.name}`);
  await screenshot(page, "freezes");

  await dev.page.goto(`/apps/${tenant.applicationId}/freezes`);
  await expect(dev.page.getByTestId("freezes-Production").getByTestId("freeze")).toContainText("Black Friday sales");
  await expect(dev.page.getByRole("button", { name: "End freeze now" })).toHaveCount(0);
  await expect(dev.page.getByText("Freeze Production…")).toHaveCount(0);

  await clickAndConfirm(freeze.getByRole("button", { name: "End freeze now" }), "End the freeze of Production now (Black Friday sales)?");
  await expect(freeze).toContainText("over");
  await expect(page.getByRole("button", { name: "End freeze now" })).toHaveCount(0);
});
