// A developer creates an API token for their pipeline in the application's settings and sees it once; the
// pipeline uploads a build and lists releases with it over the real HTTP API; revoking the token stops it. An
// administrator holds no role by the admin flag, so their token could carry none.
import { createHash, randomBytes } from "node:crypto";
import { clickAndConfirm, expect, markDocument, signedInMember, test } from "./fixtures";
import { screenshot } from "./support/releases";

test("a developer's pipeline token uploads and lists releases, is shown once, and stops working when revoked", async ({ adminPage: admin, tenant, newBrowserPage, request }) => {
  const { page, person } = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Pia", last: "Pipeline", role: "Developer" });
  await page.goto(`/apps/${tenant.applicationId}/settings`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${tenant.application}: API tokens`);
  // A developer manages tokens here, not environments or people.
  await expect(page.getByRole("region", { name: "People", exact: true })).toHaveCount(0);

  const form = page.getByRole("region", { name: "New API token", exact: true });
  await form.getByLabel("Token name").fill("github-actions");
  await expect(form.getByLabel("Developer")).toBeChecked();
  await expect(form.getByLabel("Ops")).toHaveCount(0); // only roles the person holds
  await form.getByRole("button", { name: "Create token" }).click();
  await expect(form.getByRole("status")).toHaveText("Token github-actions created.");
  const token = (await form.getByTestId("shown-once-value").textContent())?.trim() ?? "";
  expect(token).toMatch(/^rgt_[A-Za-z0-9_-]{43}$/);

  const row = () => page.getByTestId("api-token-github-actions");
  await expect(row()).toContainText(`${token.slice(0, 10)}…`);
  await expect(row()).toContainText(person.name);
  await expect(row()).toContainText("active");
  await expect(row().getByRole("cell").nth(3)).toHaveText("never");
  await expect(page.getByTestId("api-token-usage")).toContainText(`/api/v1/applications/${tenant.applicationId}/releases`);

  // Shown once: after a reload only its prefix remains.
  await page.reload();
  await expect(page.getByText(token)).toHaveCount(0);
  await expect(row()).toContainText(token.slice(0, 10));

  // The pipeline's side, over HTTP with only the token.
  const auth = { authorization: `Bearer ${token}` };
  const releases = `/api/v1/applications/${tenant.applicationId}/releases`;
  const artifact = randomBytes(64 * 1024);
  const sha256 = createHash("sha256").update(artifact).digest("hex");
  const uploaded = await request.post(releases, {
    headers: auth,
    multipart: { version: "1.0.0", notes: "First build from CI", sha256, artifact: { name: "build.tar.gz", mimeType: "application/gzip", buffer: artifact } },
  });
  expect(uploaded.status()).toBe(201);
  expect(await uploaded.json()).toMatchObject({ release: { version: "1.0.0", sha256, size: artifact.length, fileName: "build.tar.gz", uploadedBy: { name: person.name } } });

  const listed = await request.get(releases, { headers: auth });
  expect(listed.status()).toBe(200);
  expect(await listed.json()).toMatchObject({ releases: [{ version: "1.0.0", sha256, notes: "First build from CI" }] });

  // The browser's own session does not open the API.
  expect((await page.request.get(releases)).status()).toBe(401);

  await page.reload();
  await expect(row().getByRole("cell").nth(3)).toContainText("UTC");

  // A second tab, opened before the revoke, still offers it.
  const other = await page.context().newPage();
  await other.goto(`/apps/${tenant.applicationId}/settings`);
  const otherRow = other.getByTestId("api-token-github-actions");
  await expect(otherRow).toContainText("active");

  await clickAndConfirm(row().getByRole("button", { name: "Revoke" }), "Revoke the token github-actions? Pipelines using it are refused from their next call.");
  await expect(row()).toContainText("revoked");
  // The stale tab's revoke is refused, and its page shows what holds now, without a reload (it kept showing "active").
  const staleDocument = await markDocument(other);
  await clickAndConfirm(otherRow.getByRole("button", { name: "Revoke" }), "Revoke the token github-actions? Pipelines using it are refused from their next call.");
  await expect(otherRow.getByRole("cell").first()).toContainText("revoked");
  await expect(otherRow.getByRole("button", { name: "Revoke" })).toHaveCount(0);
  expect(await staleDocument()).toBe(true);
  await other.close();
  const refused = await request.get(releases, { headers: auth });
  expect(refused.status()).toBe(401);
  expect(await refused.json()).toMatchObject({ error: { code: "UNAUTHENTICATED", message: expect.stringMatching(/revoked/) } });
});

test("a customer tester has no API tokens to manage", async ({ adminPage: admin, tenant, newBrowserPage }) => {
  const { page } = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Cleo", last: "Customer", role: "Customer tester" });
  const response = await page.goto(`/apps/${tenant.applicationId}/settings`);
  expect(response?.status()).toBe(404);
});

test("an administrator without a role on the application is told a token carries only roles its creator holds", async ({ adminPage: admin, tenant }) => {
  await admin.goto(`/apps/${tenant.applicationId}/settings`);
  const form = admin.getByRole("region", { name: "New API token", exact: true });
  await expect(form.getByTestId("api-token-no-roles")).toContainText("A token carries only roles you hold on this application");
  await expect(form.getByRole("button", { name: "Create token" })).toHaveCount(0);
  await form.scrollIntoViewIfNeeded();
  await screenshot(admin, "api-token-admin-without-roles");
});
