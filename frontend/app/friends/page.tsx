"use client";

// /friends: find people, answer and withdraw friend requests, message, remove, block and
// unblock friends. The lists are TanStack queries, refetched after every change.

import { keepPreviousData, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

import { AppHeader } from "@/components/AppHeader";
import { Notice, useNotice } from "@/components/Notice";
import { Avatar } from "@/components/ui";
import * as friends from "@/lib/api/friends";
import * as messages from "@/lib/api/messages";
import type { PublicUser } from "@/lib/api/types";
import { queries } from "@/lib/queries";

/** `value`, once it has stayed the same for `ms`. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export default function FriendsPage() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const lists = useQueries({ queries: [queries.incoming(), queries.outgoing(), queries.friends(), queries.blocks()] });
  const incoming = lists[0].data?.requests ?? null;
  const outgoing = lists[1].data?.requests ?? null;
  const friendList = lists[2].data?.users ?? null;
  const blocked = lists[3].data?.users ?? [];
  const [query, setQuery] = useState("");
  const q = useSettled(query.trim(), 250);
  const search = useQuery({ ...queries.search(q), enabled: q.length > 0, placeholderData: keepPreviousData });
  const results = query.trim() && q && !search.isError ? (search.data?.users ?? []) : [];
  const { notice, act, fail } = useNotice(() => queryClient.invalidateQueries({ queryKey: ["friends"] }));

  // A list that could not be loaded says why.
  const failed = lists.find((list) => list.error)?.error;
  useEffect(() => {
    if (failed) fail(failed);
  }, [failed, fail]);

  async function message(user: PublicUser) {
    try {
      const conversation = await messages.openDirect(user.uuid);
      router.push(`/chat?c=${conversation.id}`);
    } catch (caught) {
      fail(caught);
    }
  }

  const section = "rounded-2xl border border-slate-200 bg-white p-4 shadow-sm";
  const button = "rounded-lg px-3 py-1.5 text-sm font-medium";
  return (
    <div className="min-h-full">
      <AppHeader active="friends" />
      <main className="mx-auto grid max-w-4xl gap-4 p-4 md:grid-cols-2">
        <Notice notice={notice} className="md:col-span-2" />
        <section className={`${section} md:col-span-2`} aria-labelledby="find">
          <h2 id="find" className="font-semibold">Find people</h2>
          <label className="mt-2 block">
            <span className="sr-only">Search by username</span>
            <input
              value={query}
              onChange={(event) => setQuery(event.target.value)}
              placeholder="Search by username"
              className="w-full rounded-lg border border-slate-300 px-3 py-2 text-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20"
            />
          </label>
          <ul className="mt-2 divide-y divide-slate-100">
            {results.map((user) => (
              <li key={user.uuid} className="flex items-center gap-3 py-2">
                <Avatar name={user.username} src={user.profile_picture} size="h-8 w-8" />
                <Link href={`/users/${encodeURIComponent(user.username)}`} className="flex-1 text-sm font-medium hover:underline">{user.username}</Link>
                <button
                  className={`${button} bg-indigo-600 text-white hover:bg-indigo-500`}
                  onClick={() => act(() => friends.sendRequest(user.uuid), `Request sent to ${user.username}.`)}
                >
                  Add friend
                </button>
              </li>
            ))}
          </ul>
        </section>
        <section className={section} aria-labelledby="incoming">
          <h2 id="incoming" className="font-semibold">Requests for you</h2>
          {incoming === null ? (
            <p className="mt-2 text-sm text-slate-500">Loading…</p>
          ) : incoming.length === 0 ? (
            <p className="mt-2 text-sm text-slate-500">No requests waiting.</p>
          ) : (
            <ul className="mt-2 divide-y divide-slate-100">
              {incoming.map((request) => (
                <li key={request.request_id} className="flex items-center gap-3 py-2">
                  <Avatar name={request.user.username} src={request.user.profile_picture} size="h-8 w-8" />
                  <span className="flex-1 text-sm font-medium">{request.user.username}</span>
                  <button className={`${button} bg-indigo-600 text-white hover:bg-indigo-500`} onClick={() => act(() => friends.accept(request.request_id), `You and ${request.user.username} are friends.`)}>
                    Accept
                  </button>
                  <button className={`${button} text-slate-600 hover:bg-slate-100`} onClick={() => act(() => friends.reject(request.request_id), "Request declined.")}>
                    Decline
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className={section} aria-labelledby="outgoing">
          <h2 id="outgoing" className="font-semibold">Sent requests</h2>
          {outgoing === null ? (
            <p className="mt-2 text-sm text-slate-500">Loading…</p>
          ) : outgoing.length === 0 ? (
            <p className="mt-2 text-sm text-slate-500">Nothing pending.</p>
          ) : (
            <ul className="mt-2 divide-y divide-slate-100">
              {outgoing.map((request) => (
                <li key={request.request_id} className="flex items-center gap-3 py-2">
                  <Avatar name={request.user.username} src={request.user.profile_picture} size="h-8 w-8" />
                  <span className="flex-1 text-sm font-medium">{request.user.username}</span>
                  <button className={`${button} text-slate-600 hover:bg-slate-100`} onClick={() => act(() => friends.cancel(request.request_id), "Request withdrawn.")}>
                    Cancel
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className={`${section} md:col-span-2`} aria-labelledby="friends">
          <h2 id="friends" className="font-semibold">Friends</h2>
          {friendList === null ? (
            <p className="mt-2 text-sm text-slate-500">Loading…</p>
          ) : friendList.length === 0 ? (
            <p className="mt-2 text-sm text-slate-500">No friends yet. Search for people above.</p>
          ) : (
            <ul className="mt-2 divide-y divide-slate-100">
              {friendList.map(({ user }) => (
                <li key={user.uuid} className="flex items-center gap-3 py-2">
                  <Avatar name={user.username} src={user.profile_picture} size="h-8 w-8" />
                  <Link href={`/users/${encodeURIComponent(user.username)}`} className="flex-1 text-sm font-medium hover:underline">{user.username}</Link>
                  <button className={`${button} bg-indigo-600 text-white hover:bg-indigo-500`} onClick={() => message(user)}>
                    Message
                  </button>
                  <button className={`${button} text-slate-600 hover:bg-slate-100`} onClick={() => act(() => friends.remove(user.uuid), `Removed ${user.username}.`)}>
                    Remove
                  </button>
                  <button className={`${button} text-rose-600 hover:bg-rose-50`} onClick={() => act(() => friends.block(user.uuid), `Blocked ${user.username}.`)}>
                    Block
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
        {blocked.length > 0 && (
          <section className={`${section} md:col-span-2`} aria-labelledby="blocked">
            <h2 id="blocked" className="font-semibold">Blocked</h2>
            <ul className="mt-2 divide-y divide-slate-100">
              {blocked.map(({ user }) => (
                <li key={user.uuid} className="flex items-center gap-3 py-2">
                  <Avatar name={user.username} src={user.profile_picture} size="h-8 w-8" />
                  <span className="flex-1 text-sm font-medium">{user.username}</span>
                  <button className={`${button} text-slate-600 hover:bg-slate-100`} onClick={() => act(() => friends.unblock(user.uuid), `Unblocked ${user.username}.`)}>
                    Unblock
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
      </main>
    </div>
  );
}
