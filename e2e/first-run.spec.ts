// The first hour of a new installation, on the empty database the run starts with: the generated administrator
// takes over, sets up two customers and their people, and the tenant boundary, disabling and sign-in throttling
// hold as those people meet them. Serial: every later test signs in with the password the first one chooses.
import {
  choosePassword,
  clickAndConfirm,
  createApplication,
  createCustomer,
  createUser,
  expect,
  grantRole,
  newPassword,
  newPerson,
  readInitialAdmin,
  saveAdminCredentials,
  signIn,
  signInAlert,
  signInFirstTime,
  submitSignIn,
  test,
  uniq,
} from "./fixtures";

test.describe.configure({ mode: "serial" });

test("the first administrator signs in with the generated password and must choose their own before anything else", async ({ page }) => {
  const initial = await readInitialAdmin();
  await signIn(page, initial);
  await expect(page).toHaveURL(/\/account\/password$/);
  await expect(page.getByRole("heading", { name: "Choose your password" })).toBeVisible();
  await expect(page.getByText("Welcome, Administrator.")).toBeVisible();

  for (const path of ["/", "/admin/customers", "/admin/users"]) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/account\/password$/);
  }

  // Too short: a readable message, and what was typed stays so the person only fixes the one field.
  await page.getByLabel("Current password").fill(initial.password);
  await page.getByLabel("New password", { exact: true }).fill("too-short");
  await page.getByLabel("New password again").fill("too-short");
  await page.getByRole("button", { name: "Save password" }).click();
  await expect(page.getByRole("main").getByRole("alert")).toHaveText("Check the form: Use at least 12 characters.");
  await expect(page.getByText("Use at least 12 characters.", { exact: true })).toBeVisible();
  await expect(page.getByLabel("Current password")).toHaveValue(initial.password);
  await expect(page.getByLabel("New password", { exact: true })).toHaveValue("too-short");
  await expect(page.getByLabel("New password again")).toHaveValue("too-short");
  await expect(page).toHaveURL(/\/account\/password$/);

  const password = newPassword();
  await choosePassword(page, initial.password, password);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Hello, Administrator");
  await saveAdminCredentials({ email: initial.email, password });

  // Now the rest of the app opens.
  await page.getByRole("link", { name: "Users", exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.getByTestId(`user-row-${initial.email}`)).not.toContainText("has not chosen a password");
});

test("the admin sets up a customer, an application and a developer, who then sees only that application", async ({ adminPage: page, newBrowserPage }) => {
  const customer = uniq("Acme");
  const application = uniq("Webshop");
  const otherApplication = uniq("Back office");
  await createCustomer(page, customer);
  await expect(page.getByRole("region", { name: customer, exact: true })).toContainText("No applications yet.");
  const applicationId = await createApplication(page, customer, application, "The customer-facing shop");
  await createApplication(page, customer, otherApplication);

  await page.getByRole("region", { name: customer, exact: true }).getByRole("link", { name: application, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/apps/${applicationId}$`));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(application);
  await expect(page.getByTestId("environments").getByRole("heading")).toHaveText(["1. QA", "2. Acceptance", "3. Production"]);

  const developer = newPerson("Dana", "Developer");
  const oneTimePassword = await createUser(page, developer);
  await expect(page.getByTestId(`user-row-${developer.email}`)).toContainText("has not chosen a password");
  await grantRole(page, applicationId, developer, "Developer");

  const devPage = await newBrowserPage();
  await signInFirstTime(devPage, developer.email, oneTimePassword);
  await expect(devPage.getByRole("heading", { level: 1 })).toHaveText(`Hello, ${developer.name}`);
  const apps = devPage.getByRole("region", { name: "Your applications" });
  await expect(apps.getByRole("link")).toHaveText([application]);
  await expect(apps).toContainText("Developer");
  await expect(devPage.getByText(otherApplication)).toHaveCount(0);
  await expect(devPage.getByRole("link", { name: "Users", exact: true })).toHaveCount(0);
});

test("a customer's person sees only their own customer's application; another tenant's URL is a 404", async ({ adminPage: page, newBrowserPage }) => {
  const customerA = uniq("Acme");
  const applicationA = uniq("Webshop");
  const customerB = uniq("Globex");
  const applicationB = uniq("Portal");
  await createCustomer(page, customerA);
  const applicationAId = await createApplication(page, customerA, applicationA);
  await createCustomer(page, customerB);
  const applicationBId = await createApplication(page, customerB, applicationB);

  const tester = newPerson("Tom", "Tester");
  const oneTimePassword = await createUser(page, tester, customerB);
  // Customer A's settings do not even offer customer B's people.
  await page.goto(`/apps/${applicationAId}/settings`);
  const personSelect = page.getByRole("region", { name: "People", exact: true }).getByLabel("Person");
  await expect(personSelect.locator("option", { hasText: tester.email })).toHaveCount(0);
  await grantRole(page, applicationBId, tester, "Customer tester");

  const testerPage = await newBrowserPage();
  await signInFirstTime(testerPage, tester.email, oneTimePassword);
  const apps = testerPage.getByRole("region", { name: "Your applications" });
  await expect(apps.getByRole("link")).toHaveText([applicationB]);
  await expect(testerPage.getByText(applicationA)).toHaveCount(0);
  await expect(testerPage.getByText(customerA)).toHaveCount(0);

  // Their own application opens...
  await apps.getByRole("link", { name: applicationB, exact: true }).click();
  await expect(testerPage.getByRole("heading", { level: 1 })).toHaveText(applicationB);

  // ...the other tenant's does not, and the answer does not say whether it exists.
  for (const path of [`/apps/${applicationAId}`, `/apps/${applicationAId}/settings`]) {
    const response = await testerPage.goto(path);
    expect(response?.status()).toBe(404);
    await expect(testerPage.getByRole("heading", { name: "Page not found" })).toBeVisible();
    await expect(testerPage.getByText(applicationA)).toHaveCount(0);
  }
});

test("disabling a signed-in developer signs them out at their very next click", async ({ adminPage: page, newBrowserPage, tenant }) => {
  const developer = newPerson("Dan", "Developer");
  const oneTimePassword = await createUser(page, developer);
  await grantRole(page, tenant.applicationId, developer, "Developer");
  const devPage = await newBrowserPage();
  const credentials = await signInFirstTime(devPage, developer.email, oneTimePassword);
  const appLink = devPage.getByRole("region", { name: "Your applications" }).getByRole("link", { name: tenant.application, exact: true });
  await expect(appLink).toBeVisible();

  await page.goto("/admin/users");
  const row = page.getByTestId(`user-row-${developer.email}`);
  await clickAndConfirm(row.getByRole("button", { name: "Disable" }), `Disable ${developer.email}? They are signed out at once.`);
  await expect(row.getByRole("status")).toHaveText("Disabled and signed out.");
  await expect(row.getByText("Disabled", { exact: true })).toBeVisible();
  await expect(row.getByRole("button", { name: "Enable" })).toBeVisible();

  await appLink.click();
  await expect(devPage).toHaveURL(/\/signin$/);
  await expect(devPage.getByRole("button", { name: "Sign in" })).toBeVisible();

  // Signing in again does not help, and reads like a wrong password: a sign-in form never confirms a password.
  await submitSignIn(devPage, credentials);
  await expect(signInAlert(devPage)).toHaveText("Wrong email or password.");
  await expect(devPage).toHaveURL(/\/signin$/);
});

test("a wrong password is refused readably, and repeated failures lock that account out from this address", async ({ adminPage: page, admin, newBrowserPage }) => {
  // A throwaway account: locking out the administrator would break every later test.
  const throwaway = newPerson("Terry", "Throwaway");
  const oneTimePassword = await createUser(page, throwaway);

  const signInPage = await newBrowserPage();
  await signInPage.goto("/signin");
  // An unknown email reads exactly like a wrong password, so the form does not reveal who has an account.
  const nobody = newPerson("Nobody", "Here").email;
  await submitSignIn(signInPage, { email: nobody, password: "not-a-password" });
  await expect(signInAlert(signInPage)).toHaveText("Wrong email or password.");
  await expect(signInPage).toHaveURL(/\/signin$/);
  await expect(signInPage.getByLabel("Email", { exact: true })).toHaveValue(nobody);

  // LOGIN_MAX_FAILURES_PER_ACCOUNT_IP is 10 by default: ten wrong passwords are each just "wrong"...
  for (let attempt = 1; attempt <= 10; attempt++) {
    await submitSignIn(signInPage, { email: throwaway.email, password: `wrong-password-${attempt}` });
    await expect(signInAlert(signInPage)).toHaveText("Wrong email or password.");
  }
  // ...and after them even the right password waits.
  await submitSignIn(signInPage, { email: throwaway.email, password: oneTimePassword });
  await expect(signInAlert(signInPage)).toHaveText(/^Too many failed sign-ins\. Try again in \d+ minutes?\.$/);
  await expect(signInPage).toHaveURL(/\/signin$/);

  // The lock is per account: the administrator still signs in from the same address.
  await signIn(signInPage, admin);
  await expect(signInPage.getByRole("heading", { level: 1 })).toHaveText("Hello, Administrator");
});
