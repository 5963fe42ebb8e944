// The fetch core shared by the per-service clients (users.ts, friends.ts, messages.ts): base
// URLs, JSON bodies, ApiError and what to tell a person about it. Tokens live only in httpOnly
// cookies (credentials: "include"); a 401 triggers one refresh and one retry; a failed refresh
// sends the user to sign-in.

import type { ErrorBody, ErrorCode, FieldError } from "./types";

export type Service = "users" | "friends" | "messages";

const PORTS: Record<Service, number> = { users: 5001, friends: 5002, messages: 5003 };
const CONFIGURED: Record<Service, string | undefined> = {
  users: process.env.NEXT_PUBLIC_USER_SERVICE_URL,
  friends: process.env.NEXT_PUBLIC_FRIENDS_SERVICE_URL,
  messages: process.env.NEXT_PUBLIC_MESSAGE_SERVICE_URL,
};

/** A service's base URL: configured, or the page's host on the service's port (cookies are
 * per host, so the page and the services must use the same host name). */
export function baseUrl(service: Service): string {
  const configured = CONFIGURED[service];
  if (configured) return configured.replace(/\/$/, "");
  if (typeof window === "undefined") return `http://127.0.0.1:${PORTS[service]}`;
  return `${window.location.protocol}//${window.location.hostname}:${PORTS[service]}`;
}

/** An error answer of the API, with its stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldError[] = [],
  ) {
    super(message);
  }
}

const KNOWN: Partial<Record<ErrorCode, string>> = {
  invalid_credentials: "Wrong username, email or password.",
  username_taken: "That username is taken.",
  email_taken: "An account already uses that email.",
  rate_limited: "Too many attempts. Wait a little and try again.",
  server_busy: "The server is busy. Try again in a moment.",
  not_friends: "You can only message friends.",
  request_already_sent: "You already sent a request to this user.",
  already_friends: "You are already friends.",
  user_blocked: "You blocked this user. Unblock them first.",
  request_not_allowed: "This request is not possible.",
  user_not_found: "No user with that name.",
  too_many_pending_requests: "Too many requests are waiting for an answer.",
  service_unavailable: "The service is unavailable. Try again shortly.",
  not_group_admin: "Only the group's admin may do this.",
  too_many_reactions: "This message has as many different reactions as it may.",
  too_many_pins: "This conversation has as many pinned messages as it may.",
  reauthentication_required: "For your security, sign out and sign in again, then try again within 10 minutes.",
  last_sign_in_method: "Set a password or link another provider before unlinking your only way to sign in.",
  identity_not_found: "That provider is not linked to your account.",
  provider_not_found: "That sign-in provider is not available here.",
  signup_not_found: "This sign-up expired. Start again.",
};

/** What to tell a person about an error. */
export function describe(error: unknown): string {
  if (!(error instanceof ApiError)) return "Something went wrong. Check your connection and try again.";
  if (error.code === "validation_failed" && error.details.length > 0) {
    return error.details.map((detail) => detail.message).join(" ");
  }
  return KNOWN[error.code as ErrorCode] ?? error.message;
}

/** `?a=1&b=x` from the defined values (empty string when there are none). */
export function query(params: Record<string, string | number | undefined>): string {
  const defined = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
  return defined.length ? `?${new URLSearchParams(defined.map(([key, value]) => [key, String(value)]))}` : "";
}

let refreshing: Promise<boolean> | null = null;

/** Refreshes the session once even if many requests hit a 401 together. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch(`${baseUrl("users")}/auth/refresh`, { method: "POST", credentials: "include" })
    .then((response) => response.ok)
    .catch(() => false)
    .finally(() => {
      setTimeout(() => (refreshing = null), 0);
    });
  return refreshing;
}

/** `refresh`: whether a 401 refreshes the session and retries (default: not for `/auth/` paths,
 * which sign in and out; on for one that needs a signed-in caller, like linking a provider). */
export type RequestOptions = { method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"; body?: unknown; retry?: boolean; refresh?: boolean };

/** A JSON call; resolves with the body (undefined for 204), throws ApiError on an error answer. */
export async function request<T>(service: Service, path: string, options: RequestOptions = {}): Promise<T> {
  const { method = "GET", body, retry = true, refresh = !path.startsWith("/auth/") } = options;
  const response = await fetch(`${baseUrl(service)}${path}`, {
    method,
    credentials: "include",
    headers: body === undefined ? undefined : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && retry && refresh) {
    if (await refreshSession()) return request<T>(service, path, { ...options, retry: false });
    if (typeof window !== "undefined" && !window.location.pathname.startsWith("/sign")) {
      window.location.assign("/signin");
    }
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error: Partial<ErrorBody["error"]> = (json as Partial<ErrorBody> | undefined)?.error ?? {};
    throw new ApiError(response.status, error.code ?? "unknown", error.message ?? response.statusText, error.details ?? []);
  }
  return json as T;
}
