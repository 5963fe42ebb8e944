// Calls to the three services. Tokens live only in httpOnly cookies (credentials: "include");
// a 401 triggers one refresh and one retry; a failed refresh sends the user to sign-in.

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
    readonly details: { field: string; code: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** What to tell a person about an error code. */
export function describe(error: unknown): string {
  if (!(error instanceof ApiError)) return "Something went wrong. Check your connection and try again.";
  const known: Record<string, string> = {
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
  };
  if (error.code === "validation_failed" && error.details.length > 0) {
    return error.details.map((detail) => detail.message).join(" ");
  }
  return known[error.code] ?? error.message;
}

let refreshing: Promise<boolean> | null = null;

/** Refreshes the session once even if many requests hit a 401 together. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch(`${baseUrl("users")}/auth/refresh`, {
    method: "POST",
    credentials: "include",
  })
    .then((response) => response.ok)
    .catch(() => false)
    .finally(() => {
      setTimeout(() => (refreshing = null), 0);
    });
  return refreshing;
}

export type RequestOptions = { method?: string; body?: unknown; retry?: boolean };

/** A JSON call; throws ApiError on an error answer. */
export async function api<T>(service: Service, path: string, options: RequestOptions = {}): Promise<T> {
  const { method = "GET", body, retry = true } = options;
  const response = await fetch(`${baseUrl(service)}${path}`, {
    method,
    credentials: "include",
    headers: body === undefined ? undefined : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && retry && !path.startsWith("/auth/")) {
    if (await refreshSession()) return api<T>(service, path, { ...options, retry: false });
    if (typeof window !== "undefined" && !window.location.pathname.startsWith("/sign")) {
      window.location.assign("/signin");
    }
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = json?.error ?? {};
    throw new ApiError(response.status, error.code ?? "unknown", error.message ?? response.statusText, error.details ?? []);
  }
  return json as T;
}

// Wire types (mirroring crates/chat-models/src/api).
export type PublicUser = { uuid: string; username: string; bio: string | null; profile_picture: string | null; created_at: string };
export type Me = PublicUser & { email: string };
export type Message = {
  id: string;
  conversation_id: string;
  seq: number;
  sender_uuid: string;
  text: string;
  reply_to: string | null;
  nonce: string | null;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
};
export type ReadState = { user_uuid: string; last_read_message_id: string | null; last_read_seq: number; updated_at: string | null };
export type ConversationInfo = {
  id: string;
  is_group: boolean;
  participant_uuids: string[];
  admin: string | null;
  name: string | null;
  description: string | null;
  picture: string | null;
  last_message: { id: string; seq: number; sender_uuid: string; preview: string; created_at: string } | null;
  last_seq: number;
  can_send: boolean;
  created_at: string;
  updated_at: string;
};
export type Conversation = ConversationInfo & {
  participants: PublicUser[];
  unread_count: number;
  last_read_seq: number;
  read_states: ReadState[];
};
export type Presence = { user_uuid: string; online: boolean; last_seen: string | null };
export type FriendRequest = { request_id: number; user: PublicUser; created_at: string };
export type UserSince = { user: PublicUser; since: string };
