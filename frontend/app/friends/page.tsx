"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";

import { Notice, useNotice } from "@/components/Notice";
import { Avatar, NavBar } from "@/components/ui";
import { api, type FriendRequest, type PublicUser, type UserSince } from "@/lib/api";

export default function FriendsPage() {
  const router = useRouter();
  const [incoming, setIncoming] = useState<FriendRequest[] | null>(null);
  const [outgoing, setOutgoing] = useState<FriendRequest[] | null>(null);
  const [friends, setFriends] = useState<UserSince[] | null>(null);
  const [blocked, setBlocked] = useState<UserSince[]>([]);
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<PublicUser[]>([]);
  const { notice, act, fail } = useNotice(() => reload());

  const reload = useCallback(async () => {
    try {
      const [inc, out, fr, bl] = await Promise.all([
        api<{ requests: FriendRequest[] }>("friends", "/friends/requests/incoming"),
        api<{ requests: FriendRequest[] }>("friends", "/friends/requests/outgoing"),
        api<{ users: UserSince[] }>("friends", "/friends?limit=100"),
        api<{ users: UserSince[] }>("friends", "/blocks?limit=100"),
      ]);
      setIncoming(inc.requests);
      setOutgoing(out.requests);
      setFriends(fr.users);
      setBlocked(bl.users);
    } catch (caught) {
      fail(caught);
    }
  }, []);

  useEffect(() => {
    reload();
  }, [reload]);

  useEffect(() => {
    const q = query.trim();
    if (q.length < 1) {
      setResults([]);
      return;
    }
    const timer = setTimeout(async () => {
      try {
        const page = await api<{ users: PublicUser[] }>("users", `/users/search?q=${encodeURIComponent(q)}&limit=10`);
        setResults(page.users);
      } catch {
        setResults([]);
      }
    }, 250);
    return () => clearTimeout(timer);
  }, [query]);


  async function message(user: PublicUser) {
    try {
      const conversation = await api<{ id: string }>("messages", "/conversations/direct", { method: "POST", body: { user_uuid: user.uuid } });
      router.push(`/chat?c=${conversation.id}`);
    } catch (caught) {
      fail(caught);
    }
  }

  const section = "rounded-2xl border border-slate-200 bg-white p-4 shadow-sm";
  const button = "rounded-lg px-3 py-1.5 text-sm font-medium";
  return (
    <div className="min-h-full">
      <header className="flex items-center gap-3 border-b border-slate-200 bg-white px-4 py-2">
        <span className="text-lg font-semibold text-indigo-600">Chat</span>
        <NavBar active="friends" />
      </header>
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
                <Avatar name={user.username} size="h-8 w-8" />
                <Link href={`/users/${encodeURIComponent(user.username)}`} className="flex-1 text-sm font-medium hover:underline">{user.username}</Link>
                <button
                  className={`${button} bg-indigo-600 text-white hover:bg-indigo-500`}
                  onClick={() => act(() => api("friends", "/friends/requests", { method: "POST", body: { user_uuid: user.uuid } }), `Request sent to ${user.username}.`)}
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
                  <Avatar name={request.user.username} size="h-8 w-8" />
                  <span className="flex-1 text-sm font-medium">{request.user.username}</span>
                  <button className={`${button} bg-indigo-600 text-white hover:bg-indigo-500`} onClick={() => act(() => api("friends", `/friends/requests/${request.request_id}/accept`, { method: "POST" }), `You and ${request.user.username} are friends.`)}>
                    Accept
                  </button>
                  <button className={`${button} text-slate-600 hover:bg-slate-100`} onClick={() => act(() => api("friends", `/friends/requests/${request.request_id}/reject`, { method: "POST" }), "Request declined.")}>
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
                  <Avatar name={request.user.username} size="h-8 w-8" />
                  <span className="flex-1 text-sm font-medium">{request.user.username}</span>
                  <button className={`${button} text-slate-600 hover:bg-slate-100`} onClick={() => act(() => api("friends", `/friends/requests/${request.request_id}`, { method: "DELETE" }), "Request withdrawn.")}>
                    Cancel
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className={`${section} md:col-span-2`} aria-labelledby="friends">
          <h2 id="friends" className="font-semibold">Friends</h2>
          {friends === null ? (
            <p className="mt-2 text-sm text-slate-500">Loading…</p>
          ) : friends.length === 0 ? (
            <p className="mt-2 text-sm text-slate-500">No friends yet. Search for people above.</p>
          ) : (
            <ul className="mt-2 divide-y divide-slate-100">
              {friends.map(({ user }) => (
                <li key={user.uuid} className="flex items-center gap-3 py-2">
                  <Avatar name={user.username} size="h-8 w-8" />
                  <Link href={`/users/${encodeURIComponent(user.username)}`} className="flex-1 text-sm font-medium hover:underline">{user.username}</Link>
                  <button className={`${button} bg-indigo-600 text-white hover:bg-indigo-500`} onClick={() => message(user)}>
                    Message
                  </button>
                  <button className={`${button} text-slate-600 hover:bg-slate-100`} onClick={() => act(() => api("friends", `/friends/${user.uuid}`, { method: "DELETE" }), `Removed ${user.username}.`)}>
                    Remove
                  </button>
                  <button className={`${button} text-rose-600 hover:bg-rose-50`} onClick={() => act(() => api("friends", `/blocks/${user.uuid}`, { method: "PUT" }), `Blocked ${user.username}.`)}>
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
                  <Avatar name={user.username} size="h-8 w-8" />
                  <span className="flex-1 text-sm font-medium">{user.username}</span>
                  <button className={`${button} text-slate-600 hover:bg-slate-100`} onClick={() => act(() => api("friends", `/blocks/${user.uuid}`, { method: "DELETE" }), `Unblocked ${user.username}.`)}>
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
