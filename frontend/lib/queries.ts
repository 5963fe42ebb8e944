// TanStack Query definitions of the server state that pages and panels read, so that their
// keys are shared: the friends page and the group panels read the same friends list, and a
// change invalidates by prefix (["friends"], ["users"]); pins by conversation (["pins", id]),
// invalidated by the chat's pin frames.

import { queryOptions } from "@tanstack/react-query";

import * as friends from "@/lib/api/friends";
import * as messages from "@/lib/api/messages";
import * as push from "@/lib/api/push";
import * as users from "@/lib/api/users";

export const queries = {
  me: () => queryOptions({ queryKey: ["users", "me"], queryFn: users.me }),
  sessions: () => queryOptions({ queryKey: ["users", "sessions"], queryFn: users.sessions }),
  signInMethods: () => queryOptions({ queryKey: ["users", "sign-in-methods"], queryFn: users.signInMethods }),
  /** Enabled providers; none when the call fails (no buttons then). */
  providers: () =>
    queryOptions({
      queryKey: ["providers"],
      queryFn: () => users.providers().then((list) => list.providers).catch(() => []),
      staleTime: 5 * 60_000,
    }),
  profile: (username: string) => queryOptions({ queryKey: ["users", "profile", username], queryFn: () => users.byUsername(username) }),
  search: (q: string) => queryOptions({ queryKey: ["users", "search", q], queryFn: () => users.search(q, { limit: 10 }) }),
  friends: () => queryOptions({ queryKey: ["friends", "list"], queryFn: () => friends.list({ limit: 100 }) }),
  blocks: () => queryOptions({ queryKey: ["friends", "blocks"], queryFn: () => friends.blocks({ limit: 100 }) }),
  incoming: () => queryOptions({ queryKey: ["friends", "incoming"], queryFn: friends.incoming }),
  outgoing: () => queryOptions({ queryKey: ["friends", "outgoing"], queryFn: friends.outgoing }),
  pins: (conversationId: string) => queryOptions({ queryKey: ["pins", conversationId], queryFn: () => messages.pins(conversationId) }),
  notifications: () => queryOptions({ queryKey: ["notifications"], queryFn: push.settings }),
  relationship: (userUuid: string) => queryOptions({ queryKey: ["friends", "relationship", userUuid], queryFn: () => friends.relationship(userUuid) }),
};
