import { expect, test, type Page } from "@playwright/test";

import { password, shot } from "./helpers";

// Sign-in with "Google": the stack's user-service is configured (scripts/test.sh) with the
// local OpenID Connect provider (crates/chat-testkit/oidc-provider), whose development login
// page takes any login name; the account's email is `<login>@example.com`, verified.

const run = Date.now().toString(36);

/** At the provider: signs in as `login` and consents, unless its session makes that moot. */
async function atProvider(page: Page, login: string) {
  await page.waitForURL((url) => url.port !== "3000");
  const loginField = page.locator('input[name="login"]');
  const consent = page.getByRole("button", { name: "Continue" });
  await expect(loginField.or(consent)).toBeVisible();
  if (await loginField.isVisible()) {
    await shot(page, "oauth-provider-login");
    await loginField.fill(login);
    await page.locator('input[name="password"]').fill("anything");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await expect(consent).toBeVisible();
  }
  await consent.click();
}

test("a new user signs up with Google, picks a username, and signs in again without a password", async ({ browser }) => {
  const login = `g${run}`;
  const context = await browser.newContext();
  const page = await context.newPage();

  await page.goto("/signin");
  await page.getByRole("button", { name: "Continue with Google" }).click();
  await atProvider(page, login);

  await expect(page).toHaveURL(/\/signup\/oauth/);
  await expect(page.getByText(`Signing up with Google as ${login}@example.com`)).toBeVisible();
  await expect(page.getByLabel("Username")).toHaveValue(login);
  await page.getByLabel("Username").fill(`${login}_chat`);
  await expect(page.getByText("✓ Available")).toBeVisible();
  await shot(page, "oauth-username-step");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/chat/);
  await expect(page.getByText("● Connected")).toBeVisible();

  // Settings: Google linked, no password yet; the session says how it signed in.
  await page.goto("/settings");
  await expect(page.getByRole("heading", { name: "Sign-in methods" })).toBeVisible();
  await expect(page.getByText(`${login}@example.com ·`)).toBeVisible();
  await expect(page.getByRole("button", { name: "Unlink Google" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Set a password" })).toBeVisible();
  await expect(page.getByText("via Google")).toBeVisible();
  await shot(page, "oauth-settings");

  // Unlinking the only way to sign in is refused, with the reason.
  await page.getByRole("button", { name: "Unlink Google" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "only way to sign in" })).toBeVisible();

  // Signed out, the same Google account comes back to the same account (the provider still
  // has its own session and the consent, so it sends the browser straight back).
  await page.getByRole("button", { name: "Sign out", exact: true }).first().click();
  await expect(page).toHaveURL(/\/signin/);
  await page.getByRole("button", { name: "Continue with Google" }).click();
  await expect(page).toHaveURL(/\/chat/);
  await expect(page.getByText("● Connected")).toBeVisible();
  await page.goto("/settings");
  await expect(page.getByLabel("Username")).toHaveValue(`${login}_chat`);
  await context.close();
});

test("Google with the email of a password account is refused; signed in with the password, the user links it", async ({ browser }) => {
  const name = `p${run}`;
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/signup");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByLabel("Password").fill(password);
  await expect(page.getByText("✓ Available").first()).toBeVisible();
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/chat/);
  await context.clearCookies();

  await page.goto("/signin");
  await page.getByRole("button", { name: "Continue with Google" }).click();
  await atProvider(page, name);
  await expect(page).toHaveURL(/\/signin\?oauth_error=email_in_use/);
  await expect(page.getByRole("alert").filter({ hasText: "An account with this email already exists" })).toBeVisible();
  await shot(page, "oauth-email-in-use");

  // As the message says: sign in with the password, then link Google in Settings (the
  // provider remembers the account, so it sends the browser straight back).
  await page.getByLabel("Username or email").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/chat/);
  await page.goto("/settings");
  await page.getByRole("button", { name: "Link Google" }).click();
  await expect(page).toHaveURL(/\/settings\?linked=google/);
  await expect(page.getByRole("status").filter({ hasText: "Google is linked." })).toBeVisible();
  await expect(page.getByRole("button", { name: "Unlink Google" })).toBeVisible();
  await shot(page, "oauth-linked");
  await context.close();
});
