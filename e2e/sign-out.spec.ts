// Signing out ends the session on the server, not only in this browser: a copy of the cookie stops working too.
import { randomUUID } from "node:crypto";
import { expect, signIn, test } from "./fixtures";

interface ExportedEvent {
  kind: string;
  type: string;
  ip: string | null;
  userAgent: string | null;
  data: { sessionId?: string } | null;
}

test("signing out returns to the sign-in page, and a copied session cookie no longer opens anything", async ({ adminPage: page, newBrowserPage }) => {
  const cookies = await page.context().cookies();
  expect(cookies.map((c) => c.name)).toContain("next-auth.session-token");

  // While the session stands, the copied cookie opens a protected page in another browser: the copy works.
  const copy = await newBrowserPage();
  await copy.context().addCookies(cookies);
  await copy.goto("/admin/users");
  await expect(copy.getByRole("heading", { level: 1 })).toHaveText("Users");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin$/);

  // Both the browser that kept the copy and a new one given the copy are sent to sign in.
  await copy.reload();
  await expect(copy).toHaveURL(/\/signin$/);
  const fresh = await newBrowserPage();
  await fresh.context().addCookies(cookies);
  await fresh.goto("/admin/users");
  await expect(fresh).toHaveURL(/\/signin$/);
  await expect(fresh.getByRole("button", { name: "Sign in" })).toBeVisible();
});

test("signing out through next-auth's own endpoint is recorded with the browser's address and user agent, as signing in is", async ({ admin, adminPage, newBrowserPage }) => {
  const userAgent = `e2e-sign-out-${randomUUID()}`;
  const browser = await newBrowserPage({ userAgent });
  await signIn(browser, admin);
  const { csrfToken } = (await (await browser.request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const signedOut = await browser.request.post("/api/auth/signout", { form: { csrfToken, callbackUrl: "/signin", json: "true" }, headers: { "user-agent": userAgent } });
  expect(signedOut.ok()).toBe(true);
  await browser.goto("/");
  await expect(browser).toHaveURL(/\/signin$/);

  const events = async (type: string) => {
    const exported = await adminPage.request.get(`/audit/export?format=ndjson&type=${type}&actor=${encodeURIComponent(admin.email)}`);
    return (await exported.text())
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ExportedEvent)
      .filter((e) => e.kind === "event");
  };
  const signedIn = (await events("USER_SIGNED_IN")).find((e) => e.userAgent === userAgent);
  expect(signedIn?.ip).toBeTruthy();
  const out = (await events("USER_SIGNED_OUT")).find((e) => e.data?.sessionId === signedIn?.data?.sessionId);
  expect(out).toMatchObject({ ip: signedIn?.ip, userAgent });
});
