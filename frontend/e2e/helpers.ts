import { expect, type Browser, type Page } from "@playwright/test";

// What the browser tests share: signing up, screenshots, becoming friends, writing.

export const password = "correct horse battery";

/** Signs a new user up in a context of its own (phone-sized with `phone`); ends on /chat. */
export async function signUp(browser: Browser, name: string, phone = false): Promise<Page> {
  const context = await browser.newContext(phone ? { viewport: { width: 390, height: 780 } } : {});
  const page = await context.newPage();
  await page.goto("/signup");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByLabel("Password").fill(password);
  await expect(page.getByText("✓ Available").first()).toBeVisible();
  if (phone) await shot(page, "signup-phone");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/chat/);
  await expect(page.getByText("● Connected")).toBeVisible();
  return page;
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}

/** `asker` asks `accepter` (named `accepterName`) to be friends; both end on the Friends page. */
export async function befriend(asker: Page, accepter: Page, accepterName: string) {
  await asker.getByRole("link", { name: "Friends" }).click();
  await asker.getByPlaceholder("Search by username").fill(accepterName);
  await asker.getByRole("button", { name: "Add friend" }).click();
  await expect(asker.getByRole("status").filter({ hasText: "Request sent" })).toBeVisible();
  await accepter.getByRole("link", { name: "Friends" }).click();
  await accepter.getByRole("button", { name: "Accept" }).click();
  await expect(accepter.getByRole("status").filter({ hasText: "are friends" })).toBeVisible();
}

/** Two friends, the second with their direct conversation open; returns [first, second]. */
export async function friends(browser: Browser, first: string, second: string): Promise<[Page, Page]> {
  const one = await signUp(browser, first);
  const two = await signUp(browser, second);
  await befriend(one, two, second);
  await two.getByRole("button", { name: "Message" }).click();
  await expect(two).toHaveURL(/\/chat\?c=/);
  return [one, two];
}

export const composer = (page: Page) => page.getByLabel("Message", { exact: true });

export async function say(page: Page, text: string) {
  await composer(page).fill(text);
  await composer(page).press("Enter");
  await expect(page.getByTestId("message-text").filter({ hasText: text })).toBeVisible();
}
