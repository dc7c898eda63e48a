// An administrator resets a person's password: the new one-time password is shown once, the person is signed out
// and must choose their own password again.
import { clickAndConfirm, createUser, expect, newPerson, signInAlert, signInFirstTime, submitSignIn, test } from "./fixtures";

test("a password reset shows a one-time password once; the old password stops working", async ({ adminPage: page, newBrowserPage }) => {
  const person = newPerson("Rita", "Reset");
  const firstPassword = await createUser(page, person);
  const personPage = await newBrowserPage();
  const chosen = await signInFirstTime(personPage, person.email, firstPassword);

  await page.goto("/admin/users");
  const row = page.getByTestId(`user-row-${person.email}`);
  await expect(row).not.toContainText("has not chosen a password");
  await clickAndConfirm(row.getByRole("button", { name: "Reset password" }), `Reset the password of ${person.email}?`);
  const dialog = page.getByRole("dialog", { name: `New one-time password for ${person.email}` });
  await expect(dialog).toBeVisible();
  const oneTimePassword = ((await dialog.getByTestId("shown-once-value").textContent()) ?? "").trim();
  expect(oneTimePassword).toMatch(/^[A-Za-z0-9]{5}(-[A-Za-z0-9]{5}){3}$/);
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(oneTimePassword)).toHaveCount(0);
  await expect(row.getByRole("status")).toHaveText("Password reset.");
  await expect(row).toContainText("has not chosen a password");

  // Signed out everywhere, and only the new one-time password opens the account.
  await personPage.reload();
  await expect(personPage).toHaveURL(/\/signin$/);
  await submitSignIn(personPage, chosen);
  await expect(signInAlert(personPage)).toHaveText("Wrong email or password.");
  await signInFirstTime(personPage, person.email, oneTimePassword);
});
