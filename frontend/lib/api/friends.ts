// friends-service (port 5002): friend requests, friendships, blocks and how another user
// stands with me.

import { query, request } from "./client";
import type { FriendRequestPage, Relationship, RelationshipView, UserSincePage } from "./types";

type Page = { limit?: number };

export const incoming = () => request<FriendRequestPage>("friends", "/friends/requests/incoming");
export const outgoing = () => request<FriendRequestPage>("friends", "/friends/requests/outgoing");
/** Asks a user to be friends (accepts their pending request, if any). */
export const sendRequest = (userUuid: string) => request<RelationshipView>("friends", "/friends/requests", { method: "POST", body: { user_uuid: userUuid } });
export const accept = (requestId: number) => request<RelationshipView>("friends", `/friends/requests/${requestId}/accept`, { method: "POST" });
export const reject = (requestId: number) => request<void>("friends", `/friends/requests/${requestId}/reject`, { method: "POST" });
export const cancel = (requestId: number) => request<void>("friends", `/friends/requests/${requestId}`, { method: "DELETE" });

export const list = ({ limit }: Page = {}) => request<UserSincePage>("friends", `/friends${query({ limit })}`);
export const remove = (userUuid: string) => request<void>("friends", `/friends/${userUuid}`, { method: "DELETE" });

export const blocks = ({ limit }: Page = {}) => request<UserSincePage>("friends", `/blocks${query({ limit })}`);
export const block = (userUuid: string) => request<void>("friends", `/blocks/${userUuid}`, { method: "PUT" });
export const unblock = (userUuid: string) => request<void>("friends", `/blocks/${userUuid}`, { method: "DELETE" });

export const relationship = (userUuid: string) => request<Relationship>("friends", `/relationships/${userUuid}`);
