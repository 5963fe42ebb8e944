// The service worker (public/sw.js) run against a fake worker scope: what a push shows and
// where a click leads. (Playwright delivers a real push to the real worker in Chromium.)

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { describe, expect, it, vi } from "vitest";

import { keyBytes, sameBytes } from "./push";

const source = readFileSync(fileURLToPath(new URL("../public/sw.js", import.meta.url)), "utf8");

type Listener = (event: unknown) => void;

/** Loads sw.js into a scope of fakes; returns the scope and a way to fire its events. */
function worker(windows: { url: string; navigate?: (url: string) => Promise<unknown> }[] = []) {
  const listeners: Record<string, Listener> = {};
  const shown: { title: string; options: Record<string, unknown> }[] = [];
  const opened: string[] = [];
  const clients = windows.map((client) => ({ ...client, focus: vi.fn(async () => client) }));
  const scope = {
    location: { origin: "https://chat.example" },
    addEventListener: (type: string, listener: Listener) => (listeners[type] = listener),
    skipWaiting: vi.fn(),
    registration: { showNotification: async (title: string, options: Record<string, unknown>) => void shown.push({ title, options }) },
    clients: {
      claim: vi.fn(async () => undefined),
      matchAll: async () => clients,
      openWindow: async (url: string) => void opened.push(url),
    },
  };
  new Function("self", source)(scope);
  /** Fires an event; resolves once what it handed to waitUntil is done. */
  async function fire(type: string, event: Record<string, unknown>) {
    let pending: Promise<unknown> = Promise.resolve();
    listeners[type]({ ...event, waitUntil: (promise: Promise<unknown>) => (pending = promise) });
    await pending;
  }
  return { fire, shown, opened, clients };
}

const payload = {
  type: "message",
  conversation_id: "c".repeat(24),
  message_id: "m".repeat(24),
  sender_uuid: "u",
  title: "ann in Team",
  preview: "lunch?",
  url: `/chat?c=${"c".repeat(24)}`,
};
const data = (value: unknown) => ({ json: () => (typeof value === "string" ? JSON.parse(value) : value) });

describe("the service worker", () => {
  it("shows a push as a notification tagged by conversation", async () => {
    const { fire, shown } = worker();
    await fire("push", { data: data(payload) });
    expect(shown).toEqual([
      {
        title: "ann in Team",
        options: { body: "lunch?", tag: `conversation-${payload.conversation_id}`, renotify: true, data: { url: payload.url, conversationId: payload.conversation_id, messageId: payload.message_id } },
      },
    ]);
  });

  it("says only that a message came when the content is hidden, and still shows something for an unreadable push", async () => {
    const { fire, shown } = worker();
    await fire("push", { data: data({ ...payload, preview: null }) });
    await fire("push", { data: data("not json{") });
    await fire("push", { data: null });
    expect(shown.map((n) => [n.title, n.options.body])).toEqual([
      ["ann in Team", "New message"],
      ["Chat", "You have new messages."],
      ["Chat", "You have new messages."],
    ]);
  });

  it("opens the conversation in a new window when none is open", async () => {
    const { fire, opened } = worker();
    const close = vi.fn();
    await fire("notificationclick", { notification: { close, data: { url: payload.url } } });
    expect(close).toHaveBeenCalled();
    expect(opened).toEqual([`https://chat.example${payload.url}`]);
  });

  it("reuses an open tab of the app: focused and sent to the conversation", async () => {
    const navigate = vi.fn(async (url: string) => ({ url }));
    const { fire, opened, clients } = worker([{ url: "https://chat.example/friends", navigate }]);
    await fire("notificationclick", { notification: { close: () => undefined, data: { url: payload.url } } });
    expect(clients[0].focus).toHaveBeenCalled();
    expect(navigate).toHaveBeenCalledWith(`https://chat.example${payload.url}`);
    expect(opened).toEqual([]);
  });

  it("never leads to another site", async () => {
    const { fire, opened } = worker([{ url: "https://elsewhere.example/" }]);
    await fire("notificationclick", { notification: { close: () => undefined, data: { url: "https://evil.example/phish" } } });
    expect(opened).toEqual(["https://chat.example/chat"]);
  });
});

describe("keyBytes", () => {
  it("decodes base64url without padding", () => {
    expect(Array.from(keyBytes("BAEC_-8"))).toEqual([4, 1, 2, 255, 239]);
    expect(keyBytes("B".padEnd(87, "A")).length).toBe(65);
  });
});

describe("sameBytes", () => {
  it("tells a subscription made with the server's key from one made with another", () => {
    const key = keyBytes("BAEC_-8");
    expect(sameBytes(Uint8Array.from([4, 1, 2, 255, 239]).buffer, key)).toBe(true);
    expect(sameBytes(Uint8Array.from([4, 1, 2, 255, 238]).buffer, key)).toBe(false);
    expect(sameBytes(Uint8Array.from([4, 1]).buffer, key)).toBe(false);
    expect(sameBytes(null, key)).toBe(false);
  });
});
