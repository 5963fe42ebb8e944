// message-service (port 5003) over REST: conversations, groups and their members, message
// history, sending, editing and deleting, reactions, pins and the changes feed. Live traffic
// goes over lib/socket.ts.

import { query, request } from "./client";
import type { ChangesPage, ConversationPage, ConversationView, CreateGroup, MessagePage, MessageView, PinsPage, SearchPage, SearchParams, SendMessage, UpdateGroup } from "./types";

const path = (conversationId: string) => `/conversations/${conversationId}`;
const messagePath = (conversationId: string, messageId: string) => `${path(conversationId)}/messages/${messageId}`;

export const conversations = ({ limit, cursor }: { limit?: number; cursor?: string } = {}) =>
  request<ConversationPage>("messages", `/conversations${query({ limit, cursor })}`);
/** Opens (or reopens) the direct conversation with a friend. */
export const openDirect = (userUuid: string) => request<ConversationView>("messages", "/conversations/direct", { method: "POST", body: { user_uuid: userUuid } });

export const createGroup = (body: CreateGroup) => request<ConversationView>("messages", "/conversations/groups", { method: "POST", body });
export const updateGroup = (conversationId: string, body: UpdateGroup) => request<ConversationView>("messages", path(conversationId), { method: "PATCH", body });
export const deleteGroup = (conversationId: string) => request<void>("messages", path(conversationId), { method: "DELETE" });
export const addMembers = (conversationId: string, userUuids: string[]) =>
  request<ConversationView>("messages", `${path(conversationId)}/members`, { method: "POST", body: { user_uuids: userUuids } });
/** Removes a member (the caller themselves: leaves the group). */
export const removeMember = (conversationId: string, userUuid: string) => request<void>("messages", `${path(conversationId)}/members/${userUuid}`, { method: "DELETE" });
export const transferAdmin = (conversationId: string, userUuid: string) =>
  request<ConversationView>("messages", `${path(conversationId)}/admin`, { method: "PUT", body: { user_uuid: userUuid } });

/** A page of messages, newest first; `before` pages back from a message id. */
/** A page of history: the newest, `before` a message (newest first), `after` one (oldest
 * first), or `around` one (oldest first; `has_more`: older messages exist). */
export const history = (
  conversationId: string,
  { before, after, around, limit = 50 }: { before?: string; after?: string; around?: string; limit?: number } = {},
) => request<MessagePage>("messages", `${path(conversationId)}/messages${query({ limit, before, after, around })}`);
/** Messages of my conversations (or one) whose text matches. */
export const search = (params: SearchParams) => request<SearchPage>("messages", `/search/messages${query(params)}`);
export const send = (conversationId: string, body: SendMessage) => request<MessageView>("messages", `${path(conversationId)}/messages`, { method: "POST", body });
export const edit = (conversationId: string, messageId: string, text: string) =>
  request<MessageView>("messages", messagePath(conversationId, messageId), { method: "PATCH", body: { text } });
export const remove = (conversationId: string, messageId: string) => request<void>("messages", messagePath(conversationId, messageId), { method: "DELETE" });

/** Gives (`on`) or takes back my reaction with one emoji; idempotent; the message after. */
export const react = (conversationId: string, messageId: string, emoji: string, on: boolean) =>
  request<MessageView>("messages", `${messagePath(conversationId, messageId)}/reactions/${encodeURIComponent(emoji)}`, { method: on ? "PUT" : "DELETE" });
/** Pins (`on`) or unpins a message (in a group, the admin only); idempotent; the message after. */
export const pin = (conversationId: string, messageId: string, on: boolean) =>
  request<MessageView>("messages", `${messagePath(conversationId, messageId)}/pin`, { method: on ? "PUT" : "DELETE" });
export const pins = (conversationId: string) => request<PinsPage>("messages", `${path(conversationId)}/pins`);
/** The messages changed after version `since` (in their current state), oldest change first. */
export const changes = (conversationId: string, since: number, { limit }: { limit?: number } = {}) =>
  request<ChangesPage>("messages", `${path(conversationId)}/changes${query({ since, limit })}`);
