// Signing out ends the session on the server, not only in this browser: a copy of the cookie stops working too.
import { expect, test } from "./fixtures";

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
