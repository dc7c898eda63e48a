// A developer uploads release candidates in the browser: a 50 MB build through Uppy and tus, Markdown notes rendered
// safely, the SHA-256 the server computed; an upload broken off halfway resumes where it stopped; a refused save
// keeps the form and the uploaded file; customers and other tenants get no upload page and no release.
import {
  addServer,
  completeRollout,
  createApplication,
  createCustomer,
  createRelease,
  expect,
  keepOnline,
  signedInMember,
  SimulatedAgent,
  test,
  uniq,
} from "./fixtures";
import {
  fillReleaseForm,
  generateArtifact,
  pickFile,
  recordUploadRequests,
  saveRelease,
  screenshot,
  transfer,
  uploadForm,
  waitUntilUploaded,
} from "./support/releases";

const MiB = 1024 * 1024;

test("a developer uploads a 50 MB release candidate with Markdown notes and sees the server's SHA-256", async ({ adminPage, tenant, newBrowserPage }, testInfo) => {
  test.setTimeout(120_000);
  const artifact = await generateArtifact(testInfo.outputPath("webshop-1.4.0.tar.gz"), 50 * MiB);
  const { page, person } = await signedInMember(adminPage, tenant.applicationId, newBrowserPage, { first: "Dana", last: "Developer", role: "Developer" });
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);

  await page.goto(`/apps/${tenant.applicationId}/releases`);
  await expect(page.getByText("No releases yet.")).toBeVisible();
  await page.getByRole("link", { name: "Upload a release" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`New release of ${tenant.application}`);
  await screenshot(page, "release-new");

  const version = "1.4.0";
  const notes = [
    "## What changed",
    "",
    "- Faster **checkout**",
    "- VAT rounding fixed, see [the ticket](https://tickets.example/SHOP-42)",
    "",
    "<script>window.__notesRan = true</script>",
    "",
    '<img src="x" onerror="window.__notesRan = true">',
    "",
    "[click me](javascript:window.__notesRan=true)",
  ].join("\n");
  await pickFile(page, artifact.path);
  // The fields are filled while the file uploads.
  await fillReleaseForm(page, { version, notes, needsMigration: true, migrationInstructions: "Run `php artisan migrate` after the **backup**.", sha256: artifact.sha256.toUpperCase() });
  await waitUntilUploaded(page);
  await expect(page.getByTestId("upload-file-name")).toHaveText("webshop-1.4.0.tar.gz");
  await screenshot(page, "release-new-uploaded");
  await saveRelease(page);

  await expect(page).toHaveURL(new RegExp(`/apps/${tenant.applicationId}/releases/[0-9a-f-]{36}$`), { timeout: 30_000 });
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${tenant.application} ${version}`);
  await expect(page.getByTestId("artifact-sha256")).toHaveText(artifact.sha256);
  await expect(page.getByTestId("artifact-size")).toHaveText("50 MiB (52,428,800 bytes)");
  await expect(page.getByTestId("artifact-file-name")).toHaveText("webshop-1.4.0.tar.gz");
  await expect(page.getByTestId("release-summary").getByTestId("release-status")).toHaveText("candidate");
  await expect(page.getByTestId("release-summary")).toContainText(`Uploaded by ${person.name}`);
  await expect(page.getByTestId("release-live-in")).toHaveText("Not live anywhere");

  // The notes' Markdown is rendered; the HTML in them is shown as the text it is, and nothing in them ran.
  const rendered = page.getByTestId("release-notes");
  await expect(rendered.getByRole("heading", { name: "What changed" })).toBeVisible();
  await expect(rendered.locator("strong")).toHaveText("checkout");
  await expect(rendered.getByRole("link", { name: "the ticket" })).toHaveAttribute("href", "https://tickets.example/SHOP-42");
  await expect(rendered).toContainText("<script>window.__notesRan = true</script>");
  await expect(rendered).toContainText('<img src="x" onerror="window.__notesRan = true">');
  await expect(rendered.locator("script, img, iframe")).toHaveCount(0);
  await expect(rendered).toContainText("click me");
  await expect(rendered.locator('a[href^="javascript:" i]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __notesRan?: boolean }).__notesRan)).toBeUndefined();

  await expect(page.getByTestId("migration-flag")).toContainText("needs a database migration");
  await expect(page.getByTestId("migration-instructions").locator("code")).toHaveText("php artisan migrate");
  await expect(page.getByTestId("release-timeline").getByRole("listitem").first()).toContainText("Uploaded");
  await expect(page.getByTestId("release-timeline")).toContainText(person.name);

  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(artifact.sha256);
  await screenshot(page, "release");

  // The list: the row, search by the notes' text, a status filter that matches nothing.
  await page.goto(`/apps/${tenant.applicationId}/releases`);
  const row = page.getByTestId("release-list").locator("tbody tr").filter({ hasText: version });
  await expect(row).toContainText("candidate");
  await expect(row).toContainText("50 MiB");
  await expect(row).toContainText(artifact.sha256.slice(0, 12));
  await expect(row).toContainText(person.name);
  await page.getByLabel("Search").fill("VAT rounding");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByTestId("release-list").locator("tbody tr")).toHaveCount(1);
  await page.getByLabel("Status").selectOption({ label: "rejected" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByText("No release matches these filters.")).toBeVisible();
  await expect(page).toHaveURL(/status=REJECTED/);
});

test("an upload broken off halfway continues where it stopped after a reload, and pauses and resumes", async ({ adminPage, tenant, newBrowserPage }, testInfo) => {
  test.setTimeout(120_000);
  const artifact = await generateArtifact(testInfo.outputPath("webshop-2.0.0.tar.gz"), 50 * MiB);
  const { page } = await signedInMember(adminPage, tenant.applicationId, newBrowserPage, { first: "Rui", last: "Resumer", role: "Developer" });
  await page.goto(`/apps/${tenant.applicationId}/releases/new`);
  // A slow uplink (Chromium's network emulation), so the page can be left in the middle of the upload's request.
  const cdp = await page.context().newCDPSession(page);
  const uplink = (bytesPerSecond: number) => cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
  await uplink(8 * MiB);
  await pickFile(page, artifact.path);
  const sent = async () => Number(await transfer(page).getAttribute("data-sent"));
  await expect.poll(sent, { timeout: 30_000 }).toBeGreaterThan(15 * MiB);

  // A reload cuts the request; the server keeps what reached it, the browser keeps the upload's URL (tus fingerprint).
  await page.reload();
  await uplink(4 * MiB);
  const requests = recordUploadRequests(page);
  const head = page.waitForResponse((r) => r.request().method() === "HEAD" && r.url().includes("/api/uploads/"));
  await pickFile(page, artifact.path);
  const offset = Number((await head).headers()["upload-offset"]);
  expect(offset).toBeGreaterThan(5 * MiB);
  expect(offset).toBeLessThan(artifact.size);
  const resumed = page.getByTestId("upload-resumed-from");
  await expect(resumed).toHaveAttribute("data-offset", String(offset));
  await expect(resumed).toContainText("Resumed: the server already had");
  await expect.poll(sent).toBeGreaterThan(offset + MiB);
  await screenshot(page, "release-new-resumed");

  await transfer(page).getByRole("button", { name: "Pause" }).click();
  await expect(transfer(page)).toHaveAttribute("data-phase", "paused");
  await expect(page.getByTestId("upload-status")).toHaveText(/^Paused at \d+% · /);
  await screenshot(page, "release-new-paused");
  await uplink(-1);
  await transfer(page).getByRole("button", { name: "Resume" }).click();
  await waitUntilUploaded(page);

  // After the reload nothing started over: no new upload was created, and every request continued at or past the
  // offset the server reported, so fewer bytes than the file crossed the wire.
  expect(requests.filter((r) => r.method === "POST")).toEqual([]);
  const patches = requests.filter((r) => r.method === "PATCH").map((r) => r.offset ?? -1);
  expect(patches.length).toBeGreaterThan(0);
  expect(patches[0]).toBe(offset);
  expect(Math.min(...patches)).toBe(offset);

  await fillReleaseForm(page, { version: "2.0.0" });
  await saveRelease(page);
  await expect(page.getByTestId("artifact-sha256")).toHaveText(artifact.sha256, { timeout: 30_000 });
});

test("a duplicate version is refused with a clear message; the form and the uploaded file are kept for the retry", async ({ adminPage, tenant, newBrowserPage }, testInfo) => {
  const first = await generateArtifact(testInfo.outputPath("shop-3.0.0.tar.gz"), 2 * MiB);
  const second = await generateArtifact(testInfo.outputPath("shop-3.0.1.tar.gz"), 3 * MiB);
  const { page } = await signedInMember(adminPage, tenant.applicationId, newBrowserPage, { first: "Dora", last: "Duplicate", role: "Developer" });
  await page.goto(`/apps/${tenant.applicationId}/releases/new`);
  await pickFile(page, first.path);
  await fillReleaseForm(page, { version: "3.0.0", notes: "First" });
  await waitUntilUploaded(page);
  await saveRelease(page);
  await expect(page.getByTestId("artifact-sha256")).toHaveText(first.sha256);

  await page.goto(`/apps/${tenant.applicationId}/releases/new`);
  // Saving before choosing a file says what is missing, without a trip to the server.
  await fillReleaseForm(page, { version: "3.0.0", notes: "## Second\n\nKept when refused", migrationInstructions: "none" });
  await saveRelease(page);
  await expect(uploadForm(page).getByRole("alert")).toHaveText("Choose the build archive to upload first.");

  await pickFile(page, second.path);
  await waitUntilUploaded(page);
  const requests = recordUploadRequests(page);
  await saveRelease(page);
  const main = uploadForm(page);
  await expect(main.getByRole("alert").filter({ hasText: "already exists" })).toHaveText(`Version 3.0.0 already exists for ${tenant.application}.`);
  await expect(main.getByText("3.0.0 is taken: choose another version.")).toBeVisible();
  await expect(main.getByLabel("Release notes")).toHaveValue("## Second\n\nKept when refused");
  await expect(main.getByLabel("Patch and migration instructions")).toHaveValue("none");
  await expect(transfer(page)).toHaveAttribute("data-phase", "done");
  await screenshot(page, "release-new-duplicate");

  await main.getByLabel("Version").fill("3.0.1");
  await saveRelease(page);
  await expect(page.getByTestId("artifact-sha256")).toHaveText(second.sha256, { timeout: 30_000 });
  // Saved from the file already on the server: the retry uploaded nothing again.
  expect(requests).toEqual([]);
});

test("a customer has no upload page and cannot upload; another tenant's developer sees no release", async ({ adminPage, tenant, newBrowserPage }, testInfo) => {
  const artifact = await generateArtifact(testInfo.outputPath("shop-1.0.0.tar.gz"), 1 * MiB);
  const { page: dev } = await signedInMember(adminPage, tenant.applicationId, newBrowserPage, { first: "Ana", last: "Developer", role: "Developer" });
  await dev.goto(`/apps/${tenant.applicationId}/releases/new`);
  await pickFile(dev, artifact.path);
  await fillReleaseForm(dev, { version: "1.0.0" });
  await waitUntilUploaded(dev);
  await saveRelease(dev);
  await expect(dev.getByTestId("artifact-sha256")).toHaveText(artifact.sha256);
  const releaseUrl = new URL(dev.url()).pathname;

  const { page: customer } = await signedInMember(adminPage, tenant.applicationId, newBrowserPage, { first: "Carla", last: "Customer", role: "Customer tester" });
  await customer.goto(`/apps/${tenant.applicationId}/releases/new`);
  await expect(customer.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await customer.goto(`/apps/${tenant.applicationId}/releases`);
  await expect(customer.getByTestId("release-list")).toContainText("1.0.0");
  await expect(customer.getByRole("link", { name: "Upload a release" })).toHaveCount(0);
  // Nor through the tus endpoint directly, with the customer's own session.
  const refused = await customer.request.post("/api/uploads", {
    headers: {
      "tus-resumable": "1.0.0",
      "upload-length": "1000",
      "upload-metadata": `applicationId ${Buffer.from(tenant.applicationId).toString("base64")},fileName ${Buffer.from("x.tgz").toString("base64")}`,
    },
  });
  expect(refused.status()).toBe(403);
  expect(((await refused.json()) as { error: { message: string } }).error.message).toBe("You are not allowed to do that.");

  // Another tenant's developer: no upload page, no list, no release of this application.
  const otherCustomer = uniq("Other customer");
  await createCustomer(adminPage, otherCustomer);
  const otherApp = await createApplication(adminPage, otherCustomer, uniq("Other app"));
  const { page: outsider } = await signedInMember(adminPage, otherApp, newBrowserPage, { first: "Otto", last: "Outsider", role: "Developer" });
  for (const url of [`/apps/${tenant.applicationId}/releases/new`, `/apps/${tenant.applicationId}/releases`, releaseUrl]) {
    await outsider.goto(url);
    await expect(outsider.getByRole("heading", { name: "Page not found" })).toBeVisible();
  }
});

test("a release deployed to QA shows where it is live, and its timeline tells the deployment", async ({ adminPage, tenant, newBrowserPage, request }) => {
  test.setTimeout(120_000);
  const agent = await SimulatedAgent.enroll(request, await addServer(adminPage, tenant.applicationId, "QA", "web-1"), "web-1");
  const stopHeartbeats = keepOnline([agent]);
  try {
    const { page, person } = await signedInMember(adminPage, tenant.applicationId, newBrowserPage, { first: "Tom", last: "Tester", role: "Developer" });
    for (const version of ["1.2.0", "1.3.0", "1.4.0-rc.1"]) await createRelease(tenant.applicationId, person.email, version);

    // Deployed the way a developer does it, from the application page; the simulated agent carries it out.
    await page.goto(`/apps/${tenant.applicationId}`);
    const qa = page.getByTestId("deploy-QA");
    await qa.locator("summary", { hasText: "Deploy to QA" }).click();
    await qa.getByLabel("Release").selectOption({ label: "1.3.0" });
    await qa.getByLabel("Reason (optional)").fill("Sprint 41 test round");
    await qa.getByRole("button", { name: "Deploy to QA" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Deploy 1.3.0 to QA");
    await completeRollout([agent]);
    await expect(page.getByTestId("deployment-status")).toHaveText("succeeded");

    await page.goto(`/apps/${tenant.applicationId}/releases`);
    const rows = page.getByTestId("release-list").locator("tbody tr");
    await expect(rows.first()).toContainText("1.4.0-rc.1");
    await expect(rows.filter({ hasText: "1.3.0" })).toContainText("QA");
    await expect(rows.filter({ hasText: "1.2.0" })).not.toContainText("QA");
    await expect(page.getByTestId("release-count")).toHaveText("3 releases");
    await screenshot(page, "releases");

    await rows.filter({ hasText: "1.3.0" }).getByRole("link", { name: "1.3.0" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${tenant.application} 1.3.0`);
    await expect(page.getByTestId("release-live-in")).toHaveText("Live inQA");
    const timeline = page.getByTestId("release-timeline").getByRole("listitem");
    await expect(timeline).toHaveCount(2);
    await expect(timeline.nth(0)).toContainText("Uploaded");
    await expect(timeline.nth(1)).toContainText("Deployed to QA: succeeded");
    await expect(timeline.nth(1)).toContainText("Reason: Sprint 41 test round");
    await screenshot(page, "release-deployed");
    await timeline.nth(1).getByRole("link", { name: "Deployed to QA: succeeded" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Deploy 1.3.0 to QA");
  } finally {
    stopHeartbeats();
  }
});
