import { createServer, type Server } from "node:http";

import { expect, test, type Locator, type Page } from "@playwright/test";

import { composer, friends, say, shot } from "./helpers";

// What a conversation offers beyond plain messages: reactions, replies, mentions, pins, link
// previews, inline edits and deletions, the "New messages" separator, and catching up on
// changes made while offline. Against a running stack, like chat.spec.ts.

const run = Date.now().toString(36);
const PHONE = { width: 390, height: 780 };
const DESKTOP = { width: 1280, height: 720 };

/** The row of the message whose own text (not a quote of it) contains `text`. */
function row(page: Page, text: string): Locator {
  return page.locator('[id^="message-"]').filter({ has: page.getByTestId("message-text").filter({ hasText: text }) });
}

/** Shows a message's actions (hover) and clicks one. */
async function act(page: Page, text: string, action: string) {
  const message = row(page, text);
  await message.getByTestId("message-text").hover();
  await message.getByRole("button", { name: action, exact: true }).click();
}

async function openChats(page: Page, conversation: RegExp | string) {
  await page.getByRole("link", { name: "Chats" }).click();
  const entry = page.getByRole("button", { name: conversation });
  await expect(entry).toBeVisible();
  await entry.click();
}

test("two friends react and see each other's reactions live; a new conversation opens at the New messages separator", async ({ browser }) => {
  const [ann, bob] = await friends(browser, `rann_${run}`, `rbob_${run}`);
  await say(bob, "Lunch today?");
  await say(bob, "The new place on the corner.");

  await openChats(ann, new RegExp(`rbob_${run}`));
  await expect(ann.getByRole("separator", { name: "New messages" })).toBeVisible();
  await expect(row(ann, "Lunch today?")).toBeVisible();

  // Ann reacts from the picker; Bob's screen counts it without a reload.
  await act(ann, "Lunch today?", "React");
  await expect(ann.getByRole("menu", { name: "Pick a reaction" })).toBeVisible();
  await shot(ann, "reaction-picker-desktop");
  await ann.getByRole("menuitem", { name: "React with 👍" }).click();
  await expect(row(ann, "Lunch today?").getByRole("button", { name: "👍 1, you reacted", exact: true })).toBeVisible();
  const bobChip = row(bob, "Lunch today?").getByTestId("reaction");
  await expect(bobChip).toHaveAccessibleName("👍 1");
  await expect(bobChip).toHaveAttribute("aria-pressed", "false");

  // Bob adds his by the chip, and a second emoji from the picker; Ann sees both.
  await bobChip.click();
  await expect(row(bob, "Lunch today?").getByRole("button", { name: "👍 2, you reacted", exact: true })).toBeVisible();
  await act(bob, "Lunch today?", "React");
  await bob.getByRole("menuitem", { name: "React with 🎉" }).click();
  await expect(row(ann, "Lunch today?").getByRole("button", { name: "👍 2, you reacted", exact: true })).toBeVisible();
  await expect(row(ann, "Lunch today?").getByRole("button", { name: "🎉 1", exact: true })).toBeVisible();
  await shot(ann, "reactions-desktop");

  // Ann takes hers back: Bob's count drops live.
  await row(ann, "Lunch today?").getByRole("button", { name: "👍 2, you reacted", exact: true }).click();
  await expect(row(bob, "Lunch today?").getByRole("button", { name: "👍 1, you reacted", exact: true })).toBeVisible();
  await ann.setViewportSize(PHONE);
  await expect(row(ann, "Lunch today?").getByRole("button", { name: "👍 1", exact: true })).toBeVisible();

  // On touch, a long-press opens the picker.
  const corner = row(ann, "The new place on the corner.").getByTestId("message-text");
  await corner.dispatchEvent("touchstart");
  await expect(ann.getByRole("menu", { name: "Pick a reaction" })).toBeVisible();
  await corner.dispatchEvent("touchend");
  await shot(ann, "reaction-longpress-phone");
  await ann.getByRole("menuitem", { name: "React with 😂" }).click();
  await expect(row(bob, "The new place on the corner.").getByRole("button", { name: "😂 1", exact: true })).toBeVisible();
  await shot(ann, "reactions-phone");
});

test("a reply shows its quote on both sides, and the quote jumps to the original, paging back if needed", async ({ browser }) => {
  const [cat, dan] = await friends(browser, `pcat_${run}`, `pdan_${run}`);
  await say(dan, "Who has the keys?");
  await openChats(cat, new RegExp(`pdan_${run}`));

  await act(cat, "Who has the keys?", "Reply");
  await expect(cat.getByTestId("reply-target")).toContainText(`Replying to pdan_${run}`);
  await expect(cat.getByTestId("reply-target")).toContainText("Who has the keys?");
  await shot(cat, "reply-composer-desktop");
  await say(cat, "I do, under the mat.");

  for (const page of [cat, dan]) {
    const quote = row(page, "I do, under the mat.").getByTestId("reply-quote");
    await expect(quote).toContainText("Who has the keys?");
  }
  await expect(row(dan, "I do, under the mat.").getByTestId("reply-quote")).toContainText("You");
  await expect(cat.getByTestId("reply-target")).toHaveCount(0);

  // Clicking the quote highlights the original.
  await row(dan, "I do, under the mat.").getByTestId("reply-quote").click();
  await expect(row(dan, "Who has the keys?")).toHaveAttribute("data-highlighted", "true");
  await shot(dan, "reply-desktop");
  await dan.setViewportSize(PHONE);
  await shot(dan, "reply-phone");
  await dan.setViewportSize(DESKTOP);

  // A reply to a message older than the history shown: the quote loads the page around it.
  const conversation = new URL(dan.url()).searchParams.get("c")!;
  await dan.evaluate(
    async ({ conversation }) => {
      const base = `${window.location.protocol}//${window.location.hostname}:5003`;
      const send = async (body: object) => {
        const response = await fetch(`${base}/conversations/${conversation}/messages`, {
          method: "POST",
          credentials: "include",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return (await response.json()) as { id: string };
      };
      const first = await send({ text: "The very first plan" });
      for (let i = 0; i < 55; i++) await send({ text: `filler ${i}` });
      await send({ text: "Back to the first plan", reply_to: first.id });
    },
    { conversation },
  );
  await dan.reload();
  await expect(dan.getByText("● Connected")).toBeVisible();
  const late = row(dan, "Back to the first plan");
  await expect(late).toBeVisible();
  await expect(row(dan, "The very first plan")).toHaveCount(0);
  await late.getByTestId("reply-quote").click();
  await expect(row(dan, "The very first plan")).toHaveAttribute("data-highlighted", "true");
  await expect(row(dan, "The very first plan")).toBeInViewport();
});

test("a mention picked from the autocomplete shows as a badge in the other's list", async ({ browser }) => {
  const [eve, fox] = await friends(browser, `meve_${run}`, `mfox_${run}`);
  // Eve makes a group with Fox; Fox stays in their direct conversation.
  await say(fox, "Hi Eve");
  await eve.getByRole("link", { name: "Chats" }).click();
  await eve.getByRole("button", { name: "New group" }).click();
  await eve.getByLabel("Name").fill(`Book club ${run}`);
  await eve.getByRole("checkbox", { name: `mfox_${run}` }).check();
  await eve.getByRole("button", { name: "Create group" }).click();
  await expect(eve.getByRole("heading", { name: `Book club ${run}` })).toBeVisible();

  // `@` lists @everyone first (Eve is the admin), then members by the typed prefix.
  await composer(eve).pressSequentially("Next book, @", { delay: 20 });
  const options = eve.getByRole("listbox", { name: "Mention someone" });
  await expect(options.getByRole("option").first()).toHaveText(/@everyone/);
  await composer(eve).pressSequentially("mf", { delay: 20 });
  await expect(options.getByRole("option")).toHaveText([`@mfox_${run}`]);
  await shot(eve, "mention-autocomplete-desktop");
  await composer(eve).press("Enter");
  await expect(options).toHaveCount(0);
  await expect(composer(eve)).toHaveValue(`Next book, @mfox_${run} `);
  await composer(eve).pressSequentially("what do you think?", { delay: 10 });
  await composer(eve).press("Enter");
  await expect(eve.getByTestId("message-text").filter({ hasText: "what do you think?" }).locator("strong")).toHaveText(`@mfox_${run}`);

  // Fox, in the other conversation, sees the badge.
  const group = fox.getByRole("button", { name: new RegExp(`Book club ${run}`) });
  await expect(group.getByTestId("mention-badge")).toHaveAccessibleName("1 mention");
  await expect(group.getByLabel("1 unread")).toBeVisible();
  await shot(fox, "mention-badge-desktop");
  await fox.setViewportSize(PHONE);
  await fox.getByRole("button", { name: "Back to conversations" }).click();
  await expect(group.getByTestId("mention-badge")).toBeVisible();
  await shot(fox, "mention-badge-phone");

  // Opening the group shows the mention highlighted, and reading clears the badge.
  await group.click();
  await expect(fox.getByTestId("message-text").filter({ hasText: "what do you think?" }).locator("strong")).toHaveText(`@mfox_${run}`);
  await shot(fox, "mention-message-phone");
  // Fox is no admin: no Pin action in the group, no @everyone.
  await fox.getByTestId("message-text").filter({ hasText: "what do you think?" }).hover();
  await expect(row(fox, "what do you think?").getByRole("button", { name: "Reply", exact: true })).toBeVisible();
  await expect(row(fox, "what do you think?").getByRole("button", { name: "Pin", exact: true })).toHaveCount(0);
  await composer(fox).pressSequentially("@", { delay: 20 });
  await expect(fox.getByRole("listbox", { name: "Mention someone" }).getByRole("option")).toHaveText([`@meve_${run}`]);
  await composer(fox).press("Escape");
  await expect(fox.getByRole("listbox", { name: "Mention someone" })).toHaveCount(0);
  await composer(fox).fill("");
  await fox.getByRole("button", { name: "Back to conversations" }).click();
  await expect(group.getByTestId("mention-badge")).toHaveCount(0);
});

test("pins: a pinned message shows in the Pinned panel of both, and the panel jumps to it", async ({ browser }) => {
  const [gil, hal] = await friends(browser, `ngil_${run}`, `nhal_${run}`);
  await say(hal, "Door code is 4521");
  await say(hal, "See you at eight");
  await openChats(gil, new RegExp(`nhal_${run}`));

  await act(gil, "Door code is 4521", "Pin");
  await expect(row(gil, "Door code is 4521").getByTestId("pinned-mark")).toBeVisible();
  await expect(row(hal, "Door code is 4521").getByTestId("pinned-mark")).toBeVisible();

  await hal.getByRole("button", { name: "Pinned" }).click();
  const panel = hal.getByRole("dialog", { name: "Pinned messages" });
  await expect(panel.getByTestId("pinned-message")).toHaveCount(1);
  await expect(panel.getByTestId("pinned-message")).toContainText("Door code is 4521");
  await shot(hal, "pinned-panel-desktop");
  await panel.getByTestId("pinned-message").click();
  await expect(panel).toHaveCount(0);
  await expect(row(hal, "Door code is 4521")).toHaveAttribute("data-highlighted", "true");

  // Unpinned by Hal: Gil's open panel updates.
  await gil.getByRole("button", { name: "Pinned" }).click();
  await expect(gil.getByRole("dialog", { name: "Pinned messages" }).getByTestId("pinned-message")).toHaveCount(1);
  await act(hal, "Door code is 4521", "Unpin");
  await expect(gil.getByRole("dialog", { name: "Pinned messages" })).toContainText("No pinned messages yet.");
  await expect(row(gil, "Door code is 4521").getByTestId("pinned-mark")).toHaveCount(0);

  await act(hal, "See you at eight", "Pin");
  await hal.setViewportSize(PHONE);
  await hal.getByRole("button", { name: "Pinned" }).click();
  await expect(hal.getByRole("dialog", { name: "Pinned messages" }).getByTestId("pinned-message")).toContainText("See you at eight");
  await shot(hal, "pinned-panel-phone");
  await hal.keyboard.press("Escape");
  await expect(hal.getByRole("dialog", { name: "Pinned messages" })).toHaveCount(0);
});

test("an edit and a reaction made while the other was offline reach them when they return", async ({ browser }) => {
  const [ivy, jon] = await friends(browser, `oivy_${run}`, `ojon_${run}`);
  await say(jon, "Hello Ivy");
  await openChats(ivy, new RegExp(`ojon_${run}`));
  await say(ivy, "Meet at 5?");
  await expect(row(jon, "Meet at 5?")).toBeVisible();

  await jon.context().setOffline(true);
  await expect(jon.getByText(/Offline|Connecting/)).toBeVisible();

  // Ivy edits inline (Enter saves) and reacts to Jon's message.
  await act(ivy, "Meet at 5?", "Edit");
  const editor = ivy.getByRole("textbox", { name: "Edit message" });
  await expect(editor).toHaveValue("Meet at 5?");
  await editor.fill("Meet at 6?");
  await shot(ivy, "inline-edit-desktop");
  await editor.press("Enter");
  await expect(row(ivy, "Meet at 6?")).toContainText("edited");
  await act(ivy, "Hello Ivy", "React");
  await ivy.getByRole("menuitem", { name: "React with 🔥" }).click();
  await expect(row(ivy, "Hello Ivy").getByRole("button", { name: "🔥 1, you reacted", exact: true })).toBeVisible();

  // Jon still shows the old text; back online, the resume brings both without a reload.
  await expect(row(jon, "Meet at 5?")).toBeVisible();
  await jon.context().setOffline(false);
  await expect(row(jon, "Meet at 6?")).toBeVisible({ timeout: 20_000 });
  await expect(row(jon, "Meet at 6?")).toContainText("edited");
  await expect(row(jon, "Meet at 5?")).toHaveCount(0);
  await expect(row(jon, "Hello Ivy").getByRole("button", { name: "🔥 1", exact: true })).toBeVisible();

  // Escape cancels an edit; Delete asks first, in an accessible dialog.
  await ivy.setViewportSize(PHONE);
  await act(ivy, "Meet at 6?", "Edit");
  await ivy.getByRole("textbox", { name: "Edit message" }).fill("never mind");
  await shot(ivy, "inline-edit-phone");
  await ivy.getByRole("textbox", { name: "Edit message" }).press("Escape");
  await expect(row(ivy, "Meet at 6?")).toBeVisible();
  await act(ivy, "Meet at 6?", "Delete");
  const dialog = ivy.getByRole("alertdialog", { name: "Delete this message?" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Delete" }).click();
  await expect(row(ivy, "Meet at 6?")).toHaveCount(0);
  await expect(jon.getByRole("log").getByText("Message deleted")).toBeVisible();
});

// Needs message-service started with LINK_PREVIEW_UNSAFE_ALLOW=127.0.0.1:<port> (tests only) and
// LINK_PREVIEW_FIXTURE_PORT=<port> here; the default stack does not allow local links.
test("a link gets a preview card, and readers' browsers never contact the site", async ({ browser }) => {
  const port = Number(process.env.LINK_PREVIEW_FIXTURE_PORT);
  test.skip(!port, "set LINK_PREVIEW_FIXTURE_PORT (and LINK_PREVIEW_UNSAFE_ALLOW on message-service)");
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? "");
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(`<!doctype html><html><head><title>Fallback</title>
      <meta property="og:title" content="Trail guide: the ridge loop">
      <meta property="og:description" content="Twelve kilometres, two huts and a view over the valley. Bring water.">
      <meta property="og:site_name" content="Hiking Notes">
      <meta property="og:image" content="http://127.0.0.1:${port}/image.png">
      </head><body>ridge</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  try {
    const [kim, lou] = await friends(browser, `lkim_${run}`, `llou_${run}`);
    const link = `http://127.0.0.1:${port}/ridge`;
    await say(lou, `Saturday? ${link}`);
    await openChats(kim, new RegExp(`llou_${run}`));
    for (const page of [kim, lou]) {
      const card = row(page, "Saturday?").getByTestId("link-preview");
      await expect(card).toContainText("Trail guide: the ridge loop", { timeout: 15_000 });
      await expect(card).toContainText("Hiking Notes");
      await expect(card.getByRole("link", { name: "Trail guide: the ridge loop" })).toHaveAttribute("rel", "noopener noreferrer nofollow");
      await expect(card.locator("img")).toHaveCount(0);
    }
    await shot(kim, "link-preview-desktop");
    await kim.setViewportSize(PHONE);
    await shot(kim, "link-preview-phone");
    expect(hits).toEqual(["/ridge"]);
  } finally {
    server.close();
  }
});

test("search: a match deep in the history opens highlighted in its conversation", async ({ browser }) => {
  const [ivy, jon] = await friends(browser, `sivy_${run}`, `sjon_${run}`);
  const conversation = new URL(jon.url()).searchParams.get("c")!;
  await say(jon, "The attic key is under the blue flowerpot");
  // 120 more push it far out of the first page of history.
  await jon.evaluate(
    async ({ conversation }) => {
      const base = `${window.location.protocol}//${window.location.hostname}:5003`;
      for (let i = 0; i < 120; i++) {
        await fetch(`${base}/conversations/${conversation}/messages`, {
          method: "POST",
          credentials: "include",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: `chatter ${i}` }),
        });
      }
    },
    { conversation },
  );
  await openChats(ivy, new RegExp(`sjon_${run}`));
  await expect(row(ivy, "chatter 119")).toBeVisible();
  await expect(row(ivy, "The attic key")).toHaveCount(0);

  // Ivy searches everywhere, typing a word and the start of another (accents do not matter).
  await ivy.getByRole("button", { name: "Search", exact: true }).click();
  const panel = ivy.getByRole("complementary", { name: "Search messages" });
  await panel.getByRole("searchbox", { name: "Search messages" }).pressSequentially("ÁTTIC flowerp", { delay: 20 });
  const result = panel.getByTestId("search-result");
  await expect(result).toHaveCount(1);
  await expect(result.locator("mark")).toHaveText(["attic", "flowerpot"]);
  await expect(result).toContainText(`sjon_${run}`);
  await shot(ivy, "search-results-desktop");

  await result.click();
  await expect(panel).toHaveCount(0);
  const found = row(ivy, "The attic key is under the blue flowerpot");
  await expect(found).toHaveAttribute("data-highlighted", "true");
  await expect(found).toBeInViewport();
  await shot(ivy, "search-jump-desktop");
  // The history between it and the newest page is offered, and loads.
  const gap = ivy.locator("[data-history-gap]");
  await expect(gap).toHaveCount(1);
  await gap.click();
  await expect(gap).toHaveCount(0);
  await expect(row(ivy, "chatter 30")).toHaveCount(1);

  // Within one conversation, on a phone: words that are not there find nothing.
  await ivy.setViewportSize(PHONE);
  await ivy.getByRole("button", { name: "Search in this conversation" }).click();
  await expect(panel.getByRole("combobox", { name: "Where to search" })).toHaveValue("current");
  await panel.getByRole("searchbox", { name: "Search messages" }).fill("zebra ");
  await expect(panel.getByText("No messages found.")).toBeVisible();
  await shot(ivy, "search-empty-phone");
  await panel.getByRole("button", { name: "Close search" }).click();
  await ivy.setViewportSize(DESKTOP);
});
