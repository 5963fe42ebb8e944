import { expect, test, type Page } from "@playwright/test";

import { friends, say, shot } from "./helpers";

// Notifications in the browser: the unread count in the tab title, mute and do-not-disturb,
// and the service worker. A push is delivered to the real worker through the DevTools
// protocol (`ServiceWorker.deliverPushMessage`): headless Chromium cannot subscribe at a push
// service here (no network) nor click a notification, so the test reads the notification
// from `registration.getNotifications()` and follows its link; the click handler itself is
// tested in lib/push.test.ts.

const run = Date.now().toString(36);

/** The notifications the page's service worker is showing. */
async function notifications(page: Page) {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    const shown = await registration.getNotifications();
    return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: (n.data as { url?: string } | null)?.url }));
  });
}

/** Delivers `payload` as a push to the service worker controlling `page` (other contexts
 * of the browser have workers of their own on the same origin). */
async function deliverPush(page: Page, payload: unknown) {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  const cdp = await page.context().newCDPSession(page);
  const { targetInfo } = await cdp.send("Target.getTargetInfo");
  const registration = new Promise<string>((resolve) => {
    cdp.on("ServiceWorker.workerVersionUpdated", ({ versions }) => {
      const ours = versions.find((version) => version.controlledClients?.includes(targetInfo.targetId));
      if (ours) resolve(ours.registrationId);
    });
  });
  await cdp.send("ServiceWorker.enable");
  await cdp.send("ServiceWorker.deliverPushMessage", { origin: new URL(page.url()).origin, registrationId: await registration, data: JSON.stringify(payload) });
  await cdp.detach();
}

test("a push shows a notification that leads to its conversation; unread in the title; mute and do not disturb", async ({ browser }) => {
  const [ann, bob] = await friends(browser, `ann_n_${run}`, `bob_n_${run}`);
  await bob.context().grantPermissions(["notifications"]);
  const conversation = new URL(bob.url()).searchParams.get("c")!;
  await say(bob, "Hi Ann");

  // Ann is elsewhere in the app: Bob's next message shows in her chat tab's title.
  await ann.getByRole("link", { name: "Chats" }).click();
  await expect(ann.getByRole("button", { name: new RegExp(`bob_n_${run}`) })).toBeVisible();
  await expect(ann).toHaveTitle("(1) Chat");
  await ann.getByRole("button", { name: new RegExp(`bob_n_${run}`) }).click();
  await expect(ann).toHaveTitle("Chat");

  // Bob mutes the conversation from the bell in its header; it stays muted after a reload.
  const menu = bob.getByRole("menu", { name: "Notifications" });
  await bob.getByRole("button", { name: "Notifications" }).click();
  await menu.getByRole("menuitemcheckbox", { name: "Mute this conversation" }).click();
  await expect(menu.getByRole("menuitemcheckbox", { name: "Mute this conversation" })).toHaveAttribute("aria-checked", "true");
  await expect(bob.getByTestId("muted-mark")).toBeVisible();
  await shot(bob, "conversation-muted");
  await bob.reload();
  await expect(bob.getByTestId("muted-mark")).toBeVisible();
  await bob.getByRole("button", { name: "Notifications" }).click();
  await menu.getByRole("menuitemcheckbox", { name: "Mute this conversation" }).click();
  await expect(menu.getByRole("menuitemcheckbox", { name: "Mute this conversation" })).toHaveAttribute("aria-checked", "false");
  await expect(bob.getByTestId("muted-mark")).toHaveCount(0);
  // Do not disturb from the same menu shows in Settings.
  await menu.getByRole("menuitemcheckbox", { name: "Do not disturb (all conversations)" }).click();
  await expect(menu.getByRole("menuitemcheckbox", { name: "Do not disturb (all conversations)" })).toHaveAttribute("aria-checked", "true");
  await bob.keyboard.press("Escape");
  await expect(menu).toHaveCount(0);

  // Settings: push state of this browser, hide content and do not disturb, kept by the server.
  await bob.getByRole("link", { name: "Settings" }).click();
  const section = bob.getByRole("region", { name: "Notifications" });
  await expect(section.locator("[data-push-state]")).toHaveAttribute("data-push-state", "off");
  await expect(section.getByLabel("Do not disturb (no notifications at all)")).toBeChecked();
  await section.getByLabel("Hide message text in notifications").check();
  await bob.reload();
  await expect(section.getByLabel("Do not disturb (no notifications at all)")).toBeChecked();
  await expect(section.getByLabel("Hide message text in notifications")).toBeChecked();
  await shot(bob, "settings-notifications");
  await section.getByLabel("Do not disturb (no notifications at all)").uncheck();
  await expect(section.getByLabel("Do not disturb (no notifications at all)")).not.toBeChecked();

  // A push (as message-service sends it, decrypted by the browser) becomes a notification.
  await deliverPush(bob, {
    type: "message",
    conversation_id: conversation,
    message_id: "0".repeat(24),
    sender_uuid: "00000000-0000-0000-0000-000000000000",
    title: `ann_n_${run}`,
    preview: "Lunch at noon?",
    url: `/chat?c=${conversation}`,
  });
  await expect.poll(() => notifications(bob)).toEqual([
    { title: `ann_n_${run}`, body: "Lunch at noon?", tag: `conversation-${conversation}`, url: `/chat?c=${conversation}` },
  ]);
  // Only Bob's worker got it: Ann's context has a worker of its own on the same origin.
  expect(await notifications(ann)).toEqual([]);
  // Its link opens the conversation.
  const [shown] = await notifications(bob);
  await bob.goto(shown.url!);
  await expect(bob.getByTestId("message-text").filter({ hasText: "Hi Ann" })).toBeVisible();
});
