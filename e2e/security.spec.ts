// What a browser is told to defend against, checked in real Chromium: every page carries a Content-Security-Policy
// whose nonce changes per response, may not be framed, and still works under it (the fixtures fail any test whose
// pages report a violation, so every spec's pages count; here the main pages are toured on purpose). Markdown
// never makes a reader's browser fetch an image from elsewhere. A form used before its page's script has run sends
// nothing (it used to send itself as a GET, the password in the address). And two small things a careful client
// meets: the upload endpoint's tus discovery and /favicon.ico.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Page, Route } from "@playwright/test";
import { createRelease, expect, markDocument, signedInMember, test, watchContentSecurityPolicy } from "./fixtures";
import { screenshot } from "./support/releases";

const directive = (csp: string, name: string) => csp.split(";").map((d) => d.trim()).find((d) => d.startsWith(`${name} `)) ?? null;

test("every page carries a CSP with a fresh nonce on each response, and the defences against framing and sniffing", async ({ request }) => {
  const first = await request.get("/signin");
  const second = await request.get("/signin");
  expect(first.status()).toBe(200);
  const csp = first.headers()["content-security-policy"] ?? "";
  const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(directive(csp, "script-src") ?? "")?.[1];
  expect(nonce, csp).toBeDefined();
  expect(second.headers()["content-security-policy"]).not.toContain(nonce);
  expect(directive(csp, "frame-ancestors")).toBe("frame-ancestors 'none'");
  expect(directive(csp, "img-src")).toBe("img-src 'self' data: blob:");
  expect(directive(csp, "object-src")).toBe("object-src 'none'");
  expect(csp).not.toContain("unsafe-eval");
  // Served over http here (NEXTAUTH_URL is http://127.0.0.1:…): no HSTS, no upgrade of sub-requests.
  expect(first.headers()["strict-transport-security"]).toBeUndefined();
  expect(csp).not.toContain("upgrade-insecure-requests");
  expect(first.headers()).toMatchObject({ "x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin" });

  // Every script element of the page carries that response's nonce: nothing else would run.
  const html = await first.text();
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  expect(scripts.length).toBeGreaterThan(0);
  for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);

  // The API's responses carry the fixed headers too.
  const api = await request.get("/api/v1/deployments/00000000-0000-4000-8000-000000000000");
  expect(api.headers()).toMatchObject({ "x-frame-options": "DENY", "x-content-type-options": "nosniff" });
});

test("another site cannot show a Releasegate page in a frame", async ({ browser, baseURL }) => {
  // A context of its own: the refusal is itself reported as a CSP violation, which the fixtures would count.
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const refused = page.waitForEvent("console", (m) => /frame-ancestors|Refused to (display|frame)/.test(m.text()));
    await page.setContent(`<iframe id="victim" src="${baseURL}/signin" width="600" height="400"></iframe>`);
    await refused;
    const frame = page.frames().find((f) => f.url().includes("/signin"));
    const signInButton = frame ? await frame.locator("button", { hasText: "Sign in" }).count() : 0;
    expect(signInButton).toBe(0);
  } finally {
    await context.close();
  }
});

test("the policy is enforced, and the suite's watch sees it: an image from elsewhere or an injected event handler is blocked and reported", async ({ browser, baseURL }) => {
  // A context of its own, watched like the fixtures' ones, so its violations are looked at here instead of failing.
  const context = await browser.newContext({ baseURL });
  const violations = watchContentSecurityPolicy(context);
  try {
    const page = await context.newPage();
    await page.goto("/signin");
    await page.evaluate(() => {
      const img = document.createElement("img");
      img.src = "http://127.0.0.1:9/pixel.gif";
      document.body.append(img);
      // Markup an attacker got into a page: its inline event handler must not run.
      const injected = document.createElement("div");
      injected.innerHTML = '<img src="/favicon.ico" onload="window.__injected = true">';
      document.body.append(injected);
    });
    await expect.poll(() => violations().join("\n")).toMatch(/img-src/);
    await expect.poll(() => violations().join("\n")).toMatch(/script-src/);
    expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined();
  } finally {
    await context.close();
  }
});

test("the main pages work under the policy: they hydrate, navigate in place, and report no violation", async ({ adminPage: admin, tenant, newBrowserPage }) => {
  const { page: dev, person } = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dana", last: "Developer", role: "Developer" });
  const release = await createRelease(tenant.applicationId, person.email, "1.0.0", { needsMigration: true, migrationInstructions: "Run `migrate` after the **backup**." });

  for (const path of ["/", "/admin/customers", "/admin/users", `/apps/${tenant.applicationId}`, `/apps/${tenant.applicationId}/settings`, `/apps/${tenant.applicationId}/webhooks`, "/audit", "/inbox", "/account/password", "/no-such-page"]) {
    const res = await admin.goto(path);
    expect(res?.headers()["content-security-policy"], path).toContain("'nonce-");
  }
  for (const path of [`/apps/${tenant.applicationId}/releases`, `/apps/${tenant.applicationId}/releases/${release.id}`, `/apps/${tenant.applicationId}/releases/new`]) await dev.goto(path);
  await expect(dev.getByTestId("upload-dropzone")).toBeVisible();

  // Scripts run: a link navigates without loading a new document (Next's client router), and a client form works.
  await admin.goto("/");
  const sameDocument = await markDocument(admin);
  await admin.getByRole("link", { name: "Users", exact: true }).click();
  await expect(admin).toHaveURL(/\/admin\/users$/);
  await expect(admin.getByRole("heading", { level: 1 })).toHaveText("Users");
  expect(await sameDocument()).toBe(true);
});

/** Holds back the page's scripts, as a slow connection does, until the returned function lets them through. */
async function holdScripts(page: Page): Promise<() => Promise<void>> {
  const held: Route[] = [];
  let holding = true;
  const hold = (route: Route) => (holding ? void held.push(route) : route.continue());
  await page.route("**/_next/static/chunks/**", hold);
  return async () => {
    holding = false;
    await Promise.all(held.splice(0).map((route) => route.continue()));
    await page.unroute("**/_next/static/chunks/**", hold);
  };
}

test("a form used before its page's script has run sends nothing and keeps what was typed; a password never goes into the address", async ({ admin, newBrowserPage, baseURL }) => {
  const page = await newBrowserPage();
  // The sign-in form, on a page whose script has not arrived yet: Enter in the password field does nothing.
  let release = await holdScripts(page);
  await page.goto("/signin", { waitUntil: "domcontentloaded" });
  const signInButton = page.getByRole("button", { name: "Sign in" });
  await expect(signInButton).toBeDisabled();
  await page.getByLabel("Email", { exact: true }).fill(admin.email);
  await page.getByLabel("Password", { exact: true }).fill(admin.password);
  await page.getByLabel("Password", { exact: true }).press("Enter");
  // Once the script has run, the page is the same one (a form the browser had sent would have loaded another, the
  // fields empty and the password in its address), and signing in works with what was typed.
  await release();
  await expect(signInButton).toBeEnabled();
  await expect(page).toHaveURL(`${baseURL}/signin`);
  await expect(page.getByLabel("Password", { exact: true })).toHaveValue(admin.password);
  await signInButton.click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Hello, Administrator");

  // A form bound to a server action (components/form.tsx), the same way: here the password change.
  release = await holdScripts(page);
  await page.goto("/account/password", { waitUntil: "domcontentloaded" });
  const save = page.getByRole("button", { name: "Save password" });
  await expect(save).toBeDisabled();
  await page.getByLabel("Current password").fill(admin.password);
  await page.getByLabel("New password", { exact: true }).fill("never-in-an-address");
  await page.getByLabel("New password again").fill("never-in-an-address");
  await page.getByLabel("New password again").press("Enter");
  await release();
  await expect(save).toBeEnabled();
  await expect(page).toHaveURL(`${baseURL}/account/password`);
  await expect(page.getByLabel("New password again")).toHaveValue("never-in-an-address");
});

test("an id in a URL that is not one shows the 404 page, even to an administrator (it was a 500 error page)", async ({ adminPage: admin, tenant }) => {
  const app = tenant.applicationId;
  for (const path of [
    "/apps/xyz",
    "/apps/xyz/settings",
    "/apps/xyz/webhooks",
    "/apps/xyz/freezes",
    "/apps/xyz/releases",
    "/apps/xyz/releases/new",
    `/apps/${app}/releases/xyz`,
    `/apps/${app}/releases/xyz/decide`,
    `/apps/${app}/environments/xyz`,
    "/audit/releases/xyz",
    "/deployments/xyz",
    "/deployments/00000000-0000-0000-0000-00000000000z",
  ]) {
    const res = await admin.goto(path);
    expect(res?.status(), path).toBe(404);
    await expect(admin.getByRole("heading", { name: "Page not found" }), path).toBeVisible();
  }
});

test("Markdown never loads an image from elsewhere: a tracking pixel in migration instructions becomes a link nobody's browser fetches", async ({ adminPage: admin, tenant, newBrowserPage }) => {
  const hits: string[] = [];
  const tracker = http.createServer((req, res) => {
    hits.push(req.url ?? "");
    res.writeHead(200, { "content-type": "image/gif" }).end(Buffer.from("R0lGODlhAQABAAAAACw=", "base64"));
  });
  await new Promise<void>((resolve) => tracker.listen(0, "127.0.0.1", resolve));
  try {
    const pixel = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}/pixel.gif?who=reader`;
    const { page, person } = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dana", last: "Developer", role: "Developer" });
    const release = await createRelease(tenant.applicationId, person.email, "2.0.0", {
      needsMigration: true,
      migrationInstructions: `Back up first.\n\n![schema diagram](${pixel})`,
    });
    await page.goto(`/apps/${tenant.applicationId}/releases/${release.id}`);
    const instructions = page.getByTestId("migration-instructions");
    await expect(instructions.getByRole("link", { name: "Image: schema diagram" })).toHaveAttribute("href", pixel);
    await expect(instructions.locator("img")).toHaveCount(0);
    await page.reload();
    await expect(instructions).toContainText("Back up first.");
    expect(hits).toEqual([]);
  } finally {
    await new Promise((resolve) => tracker.close(resolve));
  }
});

test("the upload endpoint answers tus discovery (OPTIONS), and /favicon.ico exists", async ({ request }) => {
  const options = await request.fetch("/api/uploads", { method: "OPTIONS" });
  expect(options.status()).toBe(204);
  expect(options.headers()["tus-version"]).toBe("1.0.0");
  expect(options.headers()["tus-resumable"]).toBe("1.0.0");
  expect(Number(options.headers()["tus-max-size"])).toBeGreaterThan(0);
  expect(options.headers()["tus-extension"]?.split(",")).toEqual(expect.arrayContaining(["creation", "creation-with-upload", "termination"]));

  const icon = await request.get("/favicon.ico");
  expect(icon.status()).toBe(200);
  expect(icon.headers()["content-type"]).toMatch(/^image\/(x-icon|vnd\.microsoft\.icon)$/);
  const bytes = await icon.body();
  expect([...bytes.subarray(0, 4)]).toEqual([0, 0, 1, 0]); // an ICO file's header
  const svg = await request.get("/icon.svg");
  expect(svg.status()).toBe(200);
});

test("a webhook cannot be pointed at the cloud metadata service or another internal address: the form says why", async ({ adminPage: admin, tenant }) => {
  await admin.goto(`/apps/${tenant.applicationId}/webhooks`);
  const form = admin.getByRole("region", { name: "New webhook", exact: true });
  await form.getByLabel("Receiver URL").fill("http://169.254.169.254/latest/meta-data/iam/");
  await form.getByRole("button", { name: "Add webhook" }).click();
  await expect(form.getByText("169.254.169.254 is a link-local address. Webhooks go only to public addresses unless an administrator allows the network (WEBHOOK_ALLOWED_NETWORKS).").first()).toBeVisible();
  await expect(form.getByLabel("Receiver URL")).toHaveValue("http://169.254.169.254/latest/meta-data/iam/");
  await screenshot(admin, "webhook-refused-destination");
  await expect(admin.getByTestId("webhook")).toHaveCount(0);
});
