// Full-page pictures of the main pages, taken on every run so a person can look at what the UI shows. They go to
// test-results/screenshots/; with UPDATE_SCREENSHOTS=1 they replace the ones in docs/screenshots/ (the README's).
// The names are fixed and readable because the pictures are documentation; each run starts on a fresh database
// (scripts/test.ts), so they cannot collide with an earlier run, and other tests use unique names.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Page } from "@playwright/test";
import { createApplication, createCustomer, createUser, expect, grantRole, test } from "./fixtures";

const dir = path.resolve(import.meta.dirname, process.env.UPDATE_SCREENSHOTS === "1" ? "../docs/screenshots" : "../test-results/screenshots");

async function shot(page: Page, name: string): Promise<void> {
  await page.mouse.move(0, 0); // no hover highlight on the last button clicked
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true, animations: "disabled" });
}

test.beforeAll(async () => {
  await mkdir(dir, { recursive: true });
});

test("screenshots of the main pages", async ({ adminPage: page, newBrowserPage }) => {
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
  await createUser(page, ana);
  await expect(page.getByTestId("shown-once")).toBeVisible();
  await shot(page, "users");

  await grantRole(page, webshop, ana, "Developer");
  await page.goto(`/apps/${webshop}`);
  await expect(page.getByRole("region", { name: "People", exact: true })).toContainText("Ana Developer");
  await shot(page, "application");

  await page.goto(`/apps/${webshop}/settings`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Webshop: environments & people");
  await shot(page, "settings");
});
