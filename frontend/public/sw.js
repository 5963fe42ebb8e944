// The service worker (registered by lib/push.ts on every page; it asks for nothing): each push
// from message-service shows a notification, one per conversation (a newer one replaces the
// older), and a click opens the app at that conversation, reusing an open tab if there is one.
// Tested by lib/push.test.ts, which runs this file against a fake worker scope.

/** The notification of a push payload (`PushPayload` in lib/api/types.ts). */
function notificationOf(payload) {
  if (!payload || payload.type !== "message" || typeof payload.conversation_id !== "string") {
    return { title: "Chat", options: { body: "You have new messages.", data: { url: "/chat" } } };
  }
  return {
    title: payload.title || "New message",
    options: {
      body: payload.preview ?? "New message",
      tag: `conversation-${payload.conversation_id}`,
      renotify: true,
      data: { url: payload.url, conversationId: payload.conversation_id, messageId: payload.message_id },
    },
  };
}

/** Where a click leads: the payload's page on this origin (never another site). */
function targetOf(data) {
  const url = new URL(typeof data?.url === "string" ? data.url : "/chat", self.location.origin);
  return url.origin === self.location.origin ? url.href : new URL("/chat", self.location.origin).href;
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let payload = null;
  try {
    payload = event.data ? event.data.json() : null;
  } catch {
    payload = null;
  }
  const { title, options } = notificationOf(payload);
  // Every push shows a notification (`userVisibleOnly`).
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = targetOf(event.notification.data);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
      if (open) {
        const focused = await open.focus();
        if (focused.navigate) {
          const navigated = await focused.navigate(target);
          if (navigated) return;
        }
      }
      await self.clients.openWindow(target);
    })(),
  );
});
