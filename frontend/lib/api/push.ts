// message-service's notification routes: the VAPID key, this browser's push subscription and
// the settings that decide what is pushed (hide content, do not disturb, muted conversations).

import { request } from "./client";
import type { NotificationSettings, NotificationSettingsPatch, PushSubscriptionView } from "./types";

/** The key to subscribe with; a 404 `push_disabled` when the server sends no pushes. */
export const vapidKey = () => request<{ public_key: string }>("messages", "/push/vapid-key");
export const subscriptions = () => request<{ subscriptions: PushSubscriptionView[] }>("messages", "/push/subscriptions");
/** Registers `PushSubscription.toJSON()` for this session. */
export const subscribe = (subscription: PushSubscriptionJSON) => request<PushSubscriptionView>("messages", "/push/subscriptions", { method: "POST", body: subscription });
/** The endpoint goes in the body, never in a URL. */
export const unsubscribe = (endpoint: string) => request<void>("messages", "/push/subscriptions", { method: "DELETE", body: { endpoint } });

export const settings = () => request<NotificationSettings>("messages", "/notifications/settings");
export const updateSettings = (patch: NotificationSettingsPatch) => request<NotificationSettings>("messages", "/notifications/settings", { method: "PATCH", body: patch });
/** Mutes (`on`) or unmutes a conversation; the settings after. */
export const mute = (conversationId: string, on: boolean) =>
  request<NotificationSettings>("messages", `/conversations/${conversationId}/mute`, { method: on ? "PUT" : "DELETE" });
