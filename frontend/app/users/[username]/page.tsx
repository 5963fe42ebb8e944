"use client";

import { useParams, useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";

import { Notice, useNotice } from "@/components/Notice";
import { Avatar, NavBar } from "@/components/ui";
import { api, type PublicUser } from "@/lib/api";

type Relationship = { status: "none" | "outgoing" | "incoming" | "friends" | "blocked" | "blocked_by"; request_id?: number };

export default function ProfilePage() {
  const { username } = useParams<{ username: string }>();
  const router = useRouter();
  const [user, setUser] = useState<PublicUser | null>(null);
  const [relationship, setRelationship] = useState<Relationship | null>(null);
  const { notice, act, fail } = useNotice(() => load());
  const [missing, setMissing] = useState(false);

  const load = useCallback(async () => {
    try {
      const found = await api<PublicUser>("users", `/users/by-username/${encodeURIComponent(username)}`);
      setUser(found);
      setRelationship(await api<Relationship>("friends", `/relationships/${found.uuid}`));
    } catch (caught) {
      const code = (caught as { code?: string }).code;
      if (code === "user_not_found") setMissing(true);
      else if (code === "cannot_target_self") router.replace("/settings");
      else fail(caught);
    }
  }, [username, router]);

  useEffect(() => {
    load();
  }, [load]);


  async function message() {
    if (!user) return;
    try {
      const conversation = await api<{ id: string }>("messages", "/conversations/direct", { method: "POST", body: { user_uuid: user.uuid } });
      router.push(`/chat?c=${conversation.id}`);
    } catch (caught) {
      fail(caught);
    }
  }

  const primary = "rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500";
  const secondary = "rounded-lg border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-50";
  return (
    <div className="min-h-full">
      <header className="flex items-center gap-3 border-b border-slate-200 bg-white px-4 py-2">
        <span className="text-lg font-semibold text-indigo-600">Chat</span>
        <NavBar active="friends" />
      </header>
      <main className="mx-auto max-w-xl p-4">
        <Notice notice={notice} className="mb-4" />
        {missing ? (
          <p className="text-sm text-slate-500">No user called {username}.</p>
        ) : !user || !relationship ? (
          <p className="text-sm text-slate-500">Loading…</p>
        ) : (
          <section className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm">
            <div className="flex items-center gap-4">
              <Avatar name={user.username} size="h-16 w-16" />
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
                  <button className={secondary} onClick={() => act(() => api("friends", `/friends/${user.uuid}`, { method: "DELETE" }), "Friend removed.")}>Remove friend</button>
                </>
              )}
              {relationship.status === "none" && (
                <button className={primary} onClick={() => act(() => api("friends", "/friends/requests", { method: "POST", body: { user_uuid: user.uuid } }), "Request sent.")}>Add friend</button>
              )}
              {relationship.status === "outgoing" && (
                <button className={secondary} onClick={() => act(() => api("friends", `/friends/requests/${relationship.request_id}`, { method: "DELETE" }), "Request withdrawn.")}>Cancel request</button>
              )}
              {relationship.status === "incoming" && (
                <button className={primary} onClick={() => act(() => api("friends", `/friends/requests/${relationship.request_id}/accept`, { method: "POST" }), "You are now friends.")}>Accept request</button>
              )}
              {relationship.status === "blocked" ? (
                <button className={secondary} onClick={() => act(() => api("friends", `/blocks/${user.uuid}`, { method: "DELETE" }), "Unblocked.")}>Unblock</button>
              ) : (
                relationship.status !== "blocked_by" && (
                  <button className="rounded-lg px-4 py-2 text-sm font-medium text-rose-600 hover:bg-rose-50" onClick={() => act(() => api("friends", `/blocks/${user.uuid}`, { method: "PUT" }), "Blocked.")}>Block</button>
                )
              )}
            </div>
          </section>
        )}
      </main>
    </div>
  );
}
