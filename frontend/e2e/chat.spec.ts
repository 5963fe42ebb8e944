import { expect, test } from "@playwright/test";

import { password, shot, signUp } from "./helpers";

const run = Date.now().toString(36);

test("two friends chat live: typing, read receipts, reload, offline delivery", async ({ browser }) => {
  const ann = await signUp(browser, `ann_${run}`);
  const bob = await signUp(browser, `bob_${run}`);
  await shot(ann, "chat-empty-desktop");

  // Ann finds Bob and asks; Bob accepts.
  await ann.getByRole("link", { name: "Friends" }).click();
  await ann.getByPlaceholder("Search by username").fill(`bob_${run}`);
  await ann.getByRole("button", { name: "Add friend" }).click();
  await expect(ann.getByRole("status").filter({ hasText: "Request sent" })).toBeVisible();
  await bob.getByRole("link", { name: "Friends" }).click();
  await bob.getByRole("button", { name: "Accept" }).click();
  await expect(bob.getByRole("status").filter({ hasText: "are friends" })).toBeVisible();
  await shot(bob, "friends-desktop");
  await bob.setViewportSize({ width: 390, height: 780 });
  await shot(bob, "friends-phone");
  await bob.setViewportSize({ width: 1280, height: 720 });

  // Bob opens the conversation and writes; Ann sees it appear live.
  await bob.getByRole("button", { name: "Message" }).click();
  await expect(bob).toHaveURL(/\/chat\?c=/);
  const bobComposer = bob.getByLabel("Message", { exact: true });
  await bobComposer.fill("Hi Ann!");
  await bobComposer.press("Enter");
  await expect(bob.getByTestId("message-text").filter({ hasText: "Hi Ann!" })).toBeVisible();

  await ann.getByRole("link", { name: "Chats" }).click();
  const conversation = ann.getByRole("button", { name: new RegExp(`bob_${run}`) });
  await expect(conversation).toBeVisible();
  await conversation.click();
  await expect(ann.getByTestId("message-text").filter({ hasText: "Hi Ann!" })).toBeVisible();

  // Typing shows on the other side; Ann's reply arrives live; Bob's message shows as seen.
  const annComposer = ann.getByLabel("Message", { exact: true });
  await annComposer.pressSequentially("Hello", { delay: 30 });
  await expect(bob.getByText(`ann_${run} is typing…`)).toBeVisible();
  await annComposer.press("Enter");
  await expect(bob.getByTestId("message-text").filter({ hasText: "Hello" })).toBeVisible();
  await expect(bob.getByTestId("read-receipt")).toBeVisible();
  await expect(ann.getByTestId("read-receipt")).toBeVisible();
  await shot(ann, "chat-desktop");

  // A reload keeps the session and the history.
  await ann.reload();
  await expect(ann.getByText("● Connected")).toBeVisible();
  await ann.getByRole("button", { name: new RegExp(`bob_${run}`) }).click();
  await expect(ann.getByTestId("message-text").filter({ hasText: "Hi Ann!" })).toBeVisible();

  // Ann goes offline; Bob writes; Ann sees it when she comes back.
  await ann.context().setOffline(true);
  await expect(ann.getByText(/Offline|Connecting/)).toBeVisible();
  await bobComposer.fill("Are you there?");
  await bobComposer.press("Enter");
  await expect(bob.getByTestId("message-text").filter({ hasText: "Are you there?" })).toBeVisible();
  await ann.context().setOffline(false);
  await expect(ann.getByTestId("message-text").filter({ hasText: "Are you there?" })).toBeVisible({ timeout: 20_000 });

  // Phone width.
  await ann.setViewportSize({ width: 390, height: 780 });
  await shot(ann, "chat-phone");
});

test("a wrong password gets a clear message", async ({ page }) => {
  await page.goto("/signin");
  await page.getByLabel("Username or email").fill(`nobody_${run}`);
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Wrong" })).toHaveText("Wrong username, email or password.");
  await page.setViewportSize({ width: 390, height: 780 });
  await shot(page, "signin-phone");
});

test("signing out everywhere ends the session on the other device", async ({ browser }) => {
  const name = `cal_${run}`;
  const laptop = await signUp(browser, name);
  const phoneContext = await browser.newContext({ viewport: { width: 390, height: 780 } });
  const phone = await phoneContext.newPage();
  await phone.goto("/signin");
  await phone.getByLabel("Username or email").fill(name);
  await phone.getByLabel("Password").fill(password);
  await phone.getByRole("button", { name: "Sign in" }).click();
  await expect(phone.getByText("● Connected")).toBeVisible();

  await laptop.getByRole("link", { name: "Settings" }).click();
  await expect(laptop.getByText("This device")).toBeVisible();
  await shot(laptop, "settings-desktop");
  await laptop.setViewportSize({ width: 390, height: 780 });
  await shot(laptop, "settings-phone");
  await laptop.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(laptop).toHaveURL(/\/signin/);
  await expect(phone).toHaveURL(/\/signin/, { timeout: 15_000 });
  await shot(phone, "signed-out-phone");
});

test("a group is created, renamed and read by its members", async ({ browser }) => {
  const dee = await signUp(browser, `dee_${run}`);
  const eli = await signUp(browser, `eli_${run}`, true);
  // Eli asks, Dee accepts (from the Friends page).
  await eli.getByRole("link", { name: "Friends" }).click();
  await eli.getByPlaceholder("Search by username").fill(`dee_${run}`);
  await eli.getByRole("button", { name: "Add friend" }).click();
  await expect(eli.getByRole("status").filter({ hasText: "Request sent" })).toBeVisible();
  await dee.getByRole("link", { name: "Friends" }).click();
  await dee.getByRole("button", { name: "Accept" }).click();
  await expect(dee.getByRole("status").filter({ hasText: "are friends" })).toBeVisible();

  // Eli's profile, as Dee sees it now.
  await dee.getByRole("link", { name: `eli_${run}` }).click();
  await expect(dee.getByRole("heading", { name: `eli_${run}` })).toBeVisible();
  await expect(dee.getByRole("button", { name: "Remove friend" })).toBeVisible();
  await shot(dee, "profile-desktop");

  await dee.getByRole("link", { name: "Chats" }).click();
  await dee.getByRole("button", { name: "New group" }).click();
  await dee.getByLabel("Name").fill("Weekend trip");
  await dee.getByRole("checkbox", { name: `eli_${run}` }).check();
  await dee.getByRole("button", { name: "Create group" }).click();
  const composer = dee.getByLabel("Message", { exact: true });
  await composer.fill("Who brings the tent?");
  await composer.press("Enter");

  await eli.getByRole("link", { name: "Chats" }).click();
  await expect(eli.getByRole("button", { name: /Weekend trip/ })).toBeVisible();
  await shot(eli, "chat-list-phone");
  await eli.getByRole("button", { name: /Weekend trip/ }).click();
  await expect(eli.getByTestId("message-text").filter({ hasText: "Who brings the tent?" })).toBeVisible();
  await shot(eli, "group-phone");
  await eli.getByRole("button", { name: "Group details" }).click();
  await expect(eli.getByRole("complementary", { name: "Group details" })).toBeVisible();
  await shot(eli, "group-details-phone");
  await eli.getByRole("button", { name: "Close group details" }).click();
  await eli.getByRole("button", { name: "Back to conversations" }).click();

  await dee.getByRole("button", { name: "Group details" }).click();
  await dee.getByRole("textbox", { name: "Name" }).fill("Weekend trip 🏕");
  await dee.getByRole("button", { name: "Save" }).click();
  await expect(eli.getByRole("button", { name: /Weekend trip 🏕/ })).toBeVisible();
  await shot(dee, "group-desktop");
});

test("an expired access token is refreshed once, transparently", async ({ browser }) => {
  const page = await signUp(browser, `fay_${run}`);
  // Drop the access cookie (as if it had expired); the refresh cookie stays.
  const context = page.context();
  const cookies = await context.cookies();
  expect(cookies.some((cookie) => cookie.name === "refresh_token")).toBe(true);
  await context.clearCookies({ name: "access_token" });
  await page.reload();
  await expect(page.getByText(`fay_${run}`)).toBeVisible();
  await expect(page.getByText("● Connected")).toBeVisible({ timeout: 20_000 });
  expect((await context.cookies()).some((cookie) => cookie.name === "access_token")).toBe(true);

  // Without a refresh cookie either, the app goes back to sign-in.
  await context.clearCookies();
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page).toHaveURL(/\/signin/, { timeout: 15_000 });
});
