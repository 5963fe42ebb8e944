"use client";

// /users/<name>: someone's profile and what I can do about them (message, add, accept,
// withdraw, remove, block, unblock), following how they stand with me.

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams, useRouter } from "next/navigation";
import { useEffect } from "react";

import { AppHeader } from "@/components/AppHeader";
import { Notice, useNotice } from "@/components/Notice";
import { Avatar } from "@/components/ui";
import { ApiError } from "@/lib/api/client";
import * as friends from "@/lib/api/friends";
import * as messages from "@/lib/api/messages";
import { queries } from "@/lib/queries";

export default function ProfilePage() {
  const { username } = useParams<{ username: string }>();
  const router = useRouter();
  const queryClient = useQueryClient();
  const userQuery = useQuery(queries.profile(username));
  const user = userQuery.data ?? null;
  const relationshipQuery = useQuery({ ...queries.relationship(user?.uuid ?? ""), enabled: user !== null });
  const relationship = relationshipQuery.data ?? null;
  const { notice, act, fail } = useNotice(() =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: queries.profile(username).queryKey }),
      user && queryClient.invalidateQueries({ queryKey: queries.relationship(user.uuid).queryKey }),
    ]),
  );

  const failed = userQuery.error ?? relationshipQuery.error;
  const code = failed instanceof ApiError ? failed.code : null;
  const missing = code === "user_not_found";
  useEffect(() => {
    if (code === "cannot_target_self") router.replace("/settings");
    else if (failed && code !== "user_not_found") fail(failed);
  }, [failed, code, fail, router]);

  async function message() {
    if (!user) return;
    try {
      const conversation = await messages.openDirect(user.uuid);
      router.push(`/chat?c=${conversation.id}`);
    } catch (caught) {
      fail(caught);
    }
  }

  const primary = "rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500";
  const secondary = "rounded-lg border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-50";
  return (
    <div className="min-h-full">
      <AppHeader active="friends" />
      <main className="mx-auto max-w-xl p-4">
        <Notice notice={notice} className="mb-4" />
        {missing ? (
          <p className="text-sm text-slate-500">No user called {username}.</p>
        ) : !user || !relationship ? (
          <p className="text-sm text-slate-500">Loading…</p>
        ) : (
          <section className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm">
            <div className="flex items-center gap-4">
              <Avatar name={user.username} src={user.profile_picture} size="h-16 w-16" />
              <div>
                <h1 className="text-xl font-semibold">{user.username}</h1>
                <p className="text-sm text-slate-500">Joined {new Date(user.created_at).toLocaleDateString()}</p>
              </div>
            </div>
            {user.bio && <p className="mt-4 whitespace-pre-wrap text-sm">{user.bio}</p>}
            <div className="mt-6 flex flex-wrap gap-2">
              {relationship.status === "friends" && (
                <>
                  <button className={primary} onClick={message}>Message</button>
                  <button className={secondary} onClick={() => act(() => friends.remove(user.uuid), "Friend removed.")}>Remove friend</button>
                </>
              )}
              {relationship.status === "none" && (
                <button className={primary} onClick={() => act(() => friends.sendRequest(user.uuid), "Request sent.")}>Add friend</button>
              )}
              {relationship.status === "outgoing" && (
                <button className={secondary} onClick={() => act(() => friends.cancel(relationship.request_id), "Request withdrawn.")}>Cancel request</button>
              )}
              {relationship.status === "incoming" && (
                <button className={primary} onClick={() => act(() => friends.accept(relationship.request_id), "You are now friends.")}>Accept request</button>
              )}
              {relationship.status === "blocked" ? (
                <button className={secondary} onClick={() => act(() => friends.unblock(user.uuid), "Unblocked.")}>Unblock</button>
              ) : (
                relationship.status !== "blocked_by" && (
                  <button className="rounded-lg px-4 py-2 text-sm font-medium text-rose-600 hover:bg-rose-50" onClick={() => act(() => friends.block(user.uuid), "Blocked.")}>Block</button>
                )
              )}
            </div>
          </section>
        )}
      </main>
    </div>
  );
}
