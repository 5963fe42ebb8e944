// Wire types of the REST API, mirroring crates/chat-models/src/api/{user,friend,message}.rs and
// the error body of crates/chat-models/src/error. Uuids and timestamps (RFC 3339) are strings.

// ---- Errors -------------------------------------------------------------------------------

/** The stable codes of `ErrorCode` (crates/chat-models/src/error/code.rs). */
export type ErrorCode =
  | "validation_failed" | "malformed_json" | "unsupported_media_type" | "payload_too_large" | "invalid_path"
  | "invalid_query" | "route_not_found" | "method_not_allowed" | "missing_token" | "invalid_token"
  | "token_expired" | "session_revoked" | "invalid_credentials" | "invalid_refresh_token" | "forbidden"
  | "invalid_service_token" | "user_not_found" | "session_not_found" | "username_taken" | "email_taken"
  | "provider_not_found" | "reauthentication_required" | "last_sign_in_method" | "identity_not_found"
  | "signup_not_found"
  | "request_already_sent" | "already_friends" | "user_blocked" | "request_not_allowed"
  | "too_many_pending_requests" | "request_not_found" | "not_friends" | "cannot_target_self"
  | "conversation_not_found" | "message_not_found" | "not_group_admin" | "not_a_group" | "group_full"
  | "member_not_found" | "not_message_author" | "message_deleted" | "too_many_reactions" | "too_many_pins"
  | "file_too_large" | "quota_exceeded" | "unsupported_file_type" | "image_too_large" | "invalid_image"
  | "upload_incomplete" | "file_not_found" | "attachment_not_found"
  | "origin_not_allowed" | "malformed_frame"
  | "unknown_frame" | "rate_limited" | "server_busy" | "service_unavailable" | "timeout" | "internal";

export type FieldError = { field: string; code: string; message: string };
/** `code` is an ErrorCode; typed as string so codes added later still parse. */
export type ErrorDetail = { code: string; message: string; details?: FieldError[] };
export type ErrorBody = { error: ErrorDetail };

// ---- user-service -------------------------------------------------------------------------

export type PublicUser = { uuid: string; username: string; bio: string | null; profile_picture: string | null; created_at: string };
export type CurrentUser = PublicUser & { email: string; updated_at: string };

export type RegisterRequest = { username: string; email: string; password: string; bio?: string; token_delivery?: "cookie" | "body" };
export type LoginRequest = { login: string; password: string; token_delivery?: "cookie" | "body" };
export type TokenPair = { access_token: string; token_type: string; expires_in: number; refresh_token: string; refresh_expires_in: number };
export type AuthResponse = { user: CurrentUser; session_id: string; access_expires_at: string; tokens?: TokenPair };
/** PATCH /users/me: omitted fields stay; `null` clears bio and picture. */
export type UpdateMeRequest = { username?: string; email?: string; bio?: string | null; profile_picture?: string | null };
/** `current_password` is left out by an account without a password (it sets its first one). */
export type ChangePasswordRequest = { current_password?: string; new_password: string };
/** DELETE /users/me: `password` is left out by an account without one. */
export type DeleteAccountRequest = { password?: string };
/** How a session signed in. */
export type SignInMethod = "password" | Provider;
export type SessionInfo = {
  session_id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  user_agent: string | null;
  sign_in_method: SignInMethod;
  current: boolean;
};
export type SessionList = { sessions: SessionInfo[] };
export type Availability = { available: boolean };
export type UserPage = { users: PublicUser[]; next_cursor: string | null };

/** Sign-in with an identity provider (crates/chat-models/src/api/oauth.rs). */
export type Provider = "google" | "github";
export type ProviderInfo = { id: Provider; name: string };
/** GET /auth/providers: the enabled ones only (maybe none). */
export type ProviderList = { providers: ProviderInfo[] };
/** `link` needs a session signed in within the last 10 minutes. */
export type OAuthIntent = "sign_in" | "link";
export type StartOAuthRequest = { intent: OAuthIntent };
export type StartOAuthResponse = { authorize_url: string };
/** GET /auth/oauth/signup: the sign-up with a provider waiting for a username in this browser. */
export type PendingSignup = { provider: Provider; email: string; suggested_username: string };
export type CompleteSignupRequest = { username: string; token_delivery?: "cookie" | "body" };
export type LinkedIdentity = { provider: Provider; email: string | null; linked_at: string };
/** GET /users/me/sign-in-methods. */
export type SignInMethods = { has_password: boolean; identities: LinkedIdentity[] };

// ---- friends-service ----------------------------------------------------------------------

export type Relationship =
  | { status: "none" | "friends" | "blocked" | "blocked_by" }
  | { status: "outgoing" | "incoming"; request_id: number };
export type RelationshipView = { user: PublicUser; relationship: Relationship };
export type FriendRequestView = { request_id: number; user: PublicUser; created_at: string };
export type FriendRequestPage = { requests: FriendRequestView[]; next_cursor: number | null };
export type UserSince = { user: PublicUser; since: string };
export type UserSincePage = { users: UserSince[]; next_cursor: string | null };

// ---- message-service ----------------------------------------------------------------------

/** One emoji on a message and who gave it (in the order they reacted). */
export type Reaction = { emoji: string; count: number; user_uuids: string[] };
/** A quote of the message a reply answers (`preview` empty once deleted). */
export type ReplyQuote = { id: string; sender_uuid: string; preview: string; deleted: boolean };
/** What the page a message links to says about itself, fetched by the server. */
export type LinkPreview = { url: string; title: string | null; description: string | null; image_url: string | null; site_name: string | null };

/** A file attached to a message (POST /attachments answers one, to send in `attachment_ids`). */
export type AttachmentView = {
  id: string;
  name: string;
  size: number;
  /** From the file's bytes. */
  content_type: string;
  width: number | null;
  height: number | null;
  url: string;
  /** Images only: at most 320×320. */
  thumbnail_url: string | null;
};

export type MessageView = {
  id: string;
  conversation_id: string;
  /** 1, 2, 3… per conversation, in the order stored, no gaps. */
  seq: number;
  sender_uuid: string;
  /** Empty once deleted. */
  text: string;
  reply_to: string | null;
  /** A short quote of the message this one answers. */
  reply: ReplyQuote | null;
  /** The sender's nonce, echoed so it can match its optimistic copy. */
  nonce: string | null;
  /** Members the text mentions. */
  mentions: string[];
  /** Whether the group's admin mentioned everyone. */
  mentions_everyone: boolean;
  /** In the order first given. */
  reactions: Reaction[];
  pinned_at: string | null;
  pinned_by: string | null;
  /** A preview of the first link, attached by the server a moment after the send. */
  link_preview: LinkPreview | null;
  /** Files attached (none once deleted). */
  attachments: AttachmentView[];
  /** The conversation's version at this message's last change (send, edit, deletion, reaction, pin, preview). */
  version: number;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
};
export type LastMessage = { id: string; seq: number; sender_uuid: string; preview: string; created_at: string };
/** A conversation without anything specific to the caller (as carried in events). */
export type ConversationInfo = {
  id: string;
  is_group: boolean;
  participant_uuids: string[];
  admin: string | null;
  name: string | null;
  description: string | null;
  picture: string | null;
  last_message: LastMessage | null;
  last_seq: number;
  /** The newest change to the conversation's messages (see MessageView.version). */
  version: number;
  can_send: boolean;
  created_at: string;
  updated_at: string;
};
export type ReadStateView = { user_uuid: string; last_read_message_id: string | null; last_read_seq: number; updated_at: string | null };
/** A conversation as its member sees it. */
export type ConversationView = ConversationInfo & {
  participants: PublicUser[];
  unread_count: number;
  /** Of the unread messages, those that mention me. */
  mention_count: number;
  last_read_seq: number;
  /** Direct conversations: every member's read position. Groups: empty. */
  read_states: ReadStateView[];
};
export type ConversationPage = { conversations: ConversationView[]; next_cursor: string | null };
export type MessagePage = { messages: MessageView[]; has_more: boolean };

/** `GET /search/messages` (crates/chat-models/src/api/search.rs). */
export type SearchParams = { q: string; conversation_id?: string; from?: string; before?: string; after?: string; sort?: "newest" | "relevance"; limit?: number; cursor?: string };
/** A piece of a snippet: `highlight` marks a matched word. Plain text. */
export type SnippetPart = { text: string; highlight: boolean };
export type SearchHit = { message: MessageView; snippet: SnippetPart[] };
export type SearchPage = { results: SearchHit[]; next_cursor: string | null };

export type CreateGroup = { name: string; description?: string; member_uuids?: string[] };
/** PATCH /conversations/{id}: omitted fields stay; `null` clears description and picture. */
export type UpdateGroup = { name?: string; description?: string | null; picture?: string | null };
/** `mentions`: uuids of members the text refers to (by `@username` here); `mention_everyone`: a group's admin only. */
export type SendMessage = { text: string; attachment_ids?: string[]; reply_to?: string | null; nonce?: string | null; mentions?: string[]; mention_everyone?: boolean };
/** Messages changed after a version, oldest change first, in their current state. */
export type ChangesPage = { changes: MessageView[]; version: number; has_more: boolean };
/** Pinned messages, most recently pinned first. */
export type PinsPage = { messages: MessageView[] };
/** `reaction.added` / `reaction.removed`: `count` is how many now react with `emoji`. */
export type ReactionChange = { conversation_id: string; message_id: string; emoji: string; user_uuid: string; count: number; version: number };

/** Notifications (crates/chat-models/src/api/push.rs): what a user is pushed. */
export type NotificationSettings = { hide_content: boolean; do_not_disturb: boolean; muted_conversations: string[] };
export type NotificationSettingsPatch = { hide_content?: boolean; do_not_disturb?: boolean };
/** A registered browser (its endpoint is not shown back). */
export type PushSubscriptionView = { id: string; push_service: string; this_session: boolean; created_at: string };
/** What the service worker receives in a push. */
export type PushPayload = { type: "message"; conversation_id: string; message_id: string; sender_uuid: string; title: string; preview: string | null; url: string };
