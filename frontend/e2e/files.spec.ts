import { readFile } from "node:fs/promises";
import { deflateSync } from "node:zlib";

import { expect, test, type Page } from "@playwright/test";

import { friends, say, shot } from "./helpers";

const run = Date.now().toString(36);

/** CRC-32 of PNG chunks (zlib.crc32 is not in every Node this runs on). */
function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** A `width`×`height` PNG, a diagonal gradient, made here (no fixture files). */
function png(width: number, height: number): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (width * 3 + 1) + 1 + x * 3;
      rows[at] = (x * 255) / width;
      rows[at + 1] = (y * 255) / height;
      rows[at + 2] = 180;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per sample
  header[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

const PDF = Buffer.from("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n");

/** Whether an <img> loaded (with the sign-in cookie: the services refuse anonymous reads). */
const loaded = (page: Page, testId: string) =>
  expect.poll(() => page.getByTestId(testId).first().evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth)).toBeGreaterThan(0);

test("an image and a PDF reach the friend live; an avatar shows on the friend's screen", async ({ browser }) => {
  const [ann, bob] = await friends(browser, `fa_${run}`, `fb_${run}`);
  await say(bob, "Send me the pictures?");
  await ann.getByRole("link", { name: "Chats" }).click();
  await ann.getByRole("button", { name: new RegExp(`fb_${run}`) }).click();

  // Ann attaches a picture and a PDF: each uploads with its progress, then is ready.
  await ann.getByTestId("attach-input").setInputFiles([
    { name: "sunset.png", mimeType: "image/png", buffer: png(640, 400) },
    { name: "notes.pdf", mimeType: "application/pdf", buffer: PDF },
  ]);
  const files = ann.getByTestId("composer-files");
  await expect(files.getByText("ready")).toHaveCount(2);
  await shot(ann, "files-composer");
  await ann.getByLabel("Message", { exact: true }).fill("Photos from the trip");
  await ann.getByRole("button", { name: "Send", exact: true }).click();
  await expect(files).toHaveCount(0);

  // Bob sees the thumbnail appear live, with the file card, and opens the picture.
  await expect(bob.getByTestId("message-text").filter({ hasText: "Photos from the trip" })).toBeVisible();
  await loaded(bob, "attachment-thumbnail");
  await expect(bob.getByTestId("attachment-file")).toContainText("notes.pdf");
  await shot(bob, "files-received");
  await bob.getByRole("button", { name: "Open sunset.png" }).click();
  await loaded(bob, "attachment-full");
  const full = await bob.getByTestId("attachment-full").evaluate((image: HTMLImageElement) => [image.naturalWidth, image.naturalHeight]);
  expect(full).toEqual([640, 400]);
  await shot(bob, "files-viewer");
  await bob.keyboard.press("Escape");
  await expect(bob.getByTestId("attachment-full")).toHaveCount(0);

  // He downloads the PDF: the same bytes, under its name.
  const downloading = bob.waitForEvent("download");
  await bob.getByTestId("attachment-file").click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("notes.pdf");
  expect(await readFile(await download.path())).toEqual(PDF);

  // Ann's avatar: a picture is taken, a PDF refused with a clear message.
  await ann.getByRole("link", { name: "Settings" }).click();
  await ann.getByLabel("Upload picture").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: png(300, 300) });
  await loaded(ann, "avatar-picture");
  await shot(ann, "files-avatar-settings");
  await ann.getByLabel("Upload picture").setInputFiles({ name: "notes.pdf", mimeType: "application/pdf", buffer: PDF });
  await expect(ann.getByRole("alert").filter({ hasText: "Choose an image" })).toBeVisible();

  // Bob's screen shows it next time it asks for the conversation list (here: a reload).
  await bob.reload();
  await loaded(bob, "avatar-picture");
  const src = await bob.getByTestId("avatar-picture").first().getAttribute("src");
  expect(src).toMatch(/\/avatars\/[0-9a-f]{24}\/thumbnail$/);
  await shot(bob, "files-avatar-friend");
});
