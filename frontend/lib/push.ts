// This browser and web push: the service worker is registered on every page (that asks for
// nothing); permission is asked only when the user clicks "Turn on" in settings, then the
// browser subscribes with the server's VAPID key and the subscription is registered for this
// session (signing out removes it on the server).

import { ApiError } from "@/lib/api/client";
import * as push from "@/lib/api/push";

export type PushState = "unsupported" | "disabled" | "denied" | "off" | "on";

const supported = () => typeof window !== "undefined" && "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

/** Registers /sw.js (idempotent); resolves with the registration, or null where unsupported. */
export async function registerWorker(): Promise<ServiceWorkerRegistration | null> {
  if (!supported()) return null;
  try {
    return await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  } catch {
    return null;
  }
}

/** base64url to the bytes `applicationServerKey` takes. */
export function keyBytes(base64url: string): Uint8Array {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
  const binary = atob(base64);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** Whether a subscription's key is `key`. */
export function sameBytes(buffer: ArrayBuffer | null, key: Uint8Array): boolean {
  if (!buffer || buffer.byteLength !== key.length) return false;
  const bytes = new Uint8Array(buffer);
  return bytes.every((byte, index) => byte === key[index]);
}

/** Whether this browser gets pushes now: subscribed here, and registered for this session
 * (a sign-out removes the registration, not the browser's subscription). */
export async function pushState(): Promise<PushState> {
  if (!supported()) return "unsupported";
  try {
    await push.vapidKey();
  } catch (caught) {
    if (caught instanceof ApiError && caught.code === "push_disabled") return "disabled";
    throw caught;
  }
  if (Notification.permission === "denied") return "denied";
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return "off";
  const { subscriptions } = await push.subscriptions();
  return subscriptions.some((registered) => registered.this_session) ? "on" : "off";
}

/** Asks for permission (call it from a click), subscribes and registers the subscription. */
export async function turnOn(): Promise<PushState> {
  if (!supported()) return "unsupported";
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return permission === "denied" ? "denied" : "off";
  const { public_key } = await push.vapidKey();
  const registration = (await registerWorker()) ?? (await navigator.serviceWorker.ready);
  const key = keyBytes(public_key);
  let subscription = await registration.pushManager.getSubscription();
  // One made for another server key (the server's was replaced) cannot be used: renew it.
  if (subscription && !sameBytes(subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key as BufferSource });
  await push.subscribe(subscription.toJSON());
  return "on";
}

/** Unsubscribes this browser here and on the server. */
export async function turnOff(): Promise<PushState> {
  const registration = supported() ? await navigator.serviceWorker.getRegistration("/") : undefined;
  const subscription = await registration?.pushManager.getSubscription();
  if (subscription) {
    await push.unsubscribe(subscription.endpoint).catch(() => undefined);
    await subscription.unsubscribe();
  }
  return "off";
}
