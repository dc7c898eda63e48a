// An administrator shapes an application's lifecycle on its settings page. Every test gets its own application
// (the `tenant` fixture), so the default QA -> Acceptance -> Production is where each one starts.
import type { Page } from "@playwright/test";
import { clickAndConfirm, expect, test } from "./fixtures";

/** An environment's card, found by the environment's name whatever its position ("2. Acceptance"). */
const environmentCard = (page: Page, name: string) => page.getByRole("region", { name: new RegExp(`^\\d+\\. ${name}$`) });
/** The environment cards' titles, top to bottom. */
const lifecycle = (page: Page) => page.getByRole("heading", { level: 2, name: /^\d+\. / });
const addCard = (page: Page) => page.getByRole("region", { name: "Add an environment", exact: true });

test.beforeEach(async ({ adminPage, tenant }) => {
  await adminPage.goto(`/apps/${tenant.applicationId}/settings`);
  await expect(lifecycle(adminPage)).toHaveText(["1. QA", "2. Acceptance", "3. Production"]);
});

test("the admin renames an environment, adds Staging, moves it earlier and removes it", async ({ adminPage: page, tenant }) => {
  await environmentCard(page, "Acceptance").getByLabel("Name", { exact: true }).fill("UAT");
  await environmentCard(page, "Acceptance").getByRole("button", { name: "Save", exact: true }).click();
  await expect(environmentCard(page, "UAT").getByRole("status")).toHaveText("UAT saved.");
  await expect(lifecycle(page)).toHaveText(["1. QA", "2. UAT", "3. Production"]);

  await addCard(page).getByLabel("Name", { exact: true }).fill("Staging");
  await addCard(page).getByRole("button", { name: "Add environment" }).click();
  await expect(addCard(page).getByRole("status")).toHaveText("Staging added at the end of the lifecycle.");
  await expect(addCard(page).getByLabel("Name", { exact: true })).toHaveValue("");
  await expect(lifecycle(page)).toHaveText(["1. QA", "2. UAT", "3. Production", "4. Staging"]);
  await expect(environmentCard(page, "Staging").getByRole("button", { name: "↓ Later" })).toHaveCount(0);

  await environmentCard(page, "Staging").getByRole("button", { name: "↑ Earlier" }).click();
  await expect(lifecycle(page)).toHaveText(["1. QA", "2. UAT", "3. Staging", "4. Production"]);

  // The application's page shows the lifecycle people will see.
  await page.getByRole("link", { name: `← back to ${tenant.application}` }).click();
  await expect(page.getByTestId("environments").getByRole("heading")).toHaveText(["1. QA", "2. UAT", "3. Staging", "4. Production"]);
  await page.getByRole("link", { name: "Environments, people & tokens →" }).click();

  await clickAndConfirm(environmentCard(page, "Staging").getByRole("button", { name: "Remove" }), "Remove Staging?");
  await expect(lifecycle(page)).toHaveText(["1. QA", "2. UAT", "3. Production"]);
  await page.reload();
  await expect(lifecycle(page)).toHaveText(["1. QA", "2. UAT", "3. Production"]);
});

test("an empty name or a batch size of 0 is explained, and the rest of the typed form is kept", async ({ adminPage: page }) => {
  const qa = environmentCard(page, "QA");
  await qa.getByLabel("Name", { exact: true }).fill("");
  await qa.getByLabel("URL people open").fill("https://qa.example.test");
  await qa.getByLabel("Nodes per batch").fill("3");
  await qa.getByRole("button", { name: "Save", exact: true }).click();
  await expect(qa.getByRole("alert")).toHaveText("Check the form: Enter a name.");
  await expect(qa.getByText("Enter a name.", { exact: true })).toBeVisible();
  await expect(qa.getByLabel("Name", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(qa.getByLabel("URL people open")).toHaveValue("https://qa.example.test");
  await expect(qa.getByLabel("Nodes per batch")).toHaveValue("3");

  await qa.getByLabel("Name", { exact: true }).fill("QA");
  await qa.getByLabel("Nodes per batch").fill("0");
  await qa.getByRole("button", { name: "Save", exact: true }).click();
  await expect(qa.getByRole("alert")).toHaveText("Check the form: At least 1 node per batch.");
  await expect(qa.getByText("At least 1 node per batch.", { exact: true })).toBeVisible();
  await expect(qa.getByLabel("Name", { exact: true })).toHaveValue("QA");
  await expect(qa.getByLabel("URL people open")).toHaveValue("https://qa.example.test");
  await expect(qa.getByLabel("Nodes per batch")).toHaveValue("0");

  await addCard(page).getByRole("button", { name: "Add environment" }).click();
  await expect(addCard(page).getByRole("alert")).toHaveText("Check the form: Enter a name.");

  // Neither refused form changed anything.
  await page.reload();
  await expect(lifecycle(page)).toHaveText(["1. QA", "2. Acceptance", "3. Production"]);
  await expect(environmentCard(page, "QA").getByLabel("URL people open")).toHaveValue("");
  await expect(environmentCard(page, "QA").getByLabel("Nodes per batch")).toHaveValue("1");
});

test("a duplicate environment name shows the conflict", async ({ adminPage: page }) => {
  const acceptance = environmentCard(page, "Acceptance");
  await acceptance.getByLabel("Name", { exact: true }).fill("QA");
  await acceptance.getByRole("button", { name: "Save", exact: true }).click();
  await expect(acceptance.getByRole("alert")).toHaveText('This application already has an environment named "QA".');
  await expect(acceptance.getByLabel("Name", { exact: true })).toHaveValue("QA");

  await addCard(page).getByLabel("Name", { exact: true }).fill("Production");
  await addCard(page).getByRole("button", { name: "Add environment" }).click();
  await expect(addCard(page).getByRole("alert")).toHaveText('This application already has an environment named "Production".');
  await expect(addCard(page).getByLabel("Name", { exact: true })).toHaveValue("Production");

  await page.reload();
  await expect(lifecycle(page)).toHaveText(["1. QA", "2. Acceptance", "3. Production"]);
});
