"use client";

// Message search: a panel with the query box (all conversations, or the open one), results
// newest first with the matched words marked, more on demand; picking a result opens its
// conversation at that message.

import { useEffect, useState } from "react";

import { conversationTitle, day, time } from "@/components/ui";
import { describe } from "@/lib/api/client";
import * as messages from "@/lib/api/messages";
import type { ConversationView, SearchHit } from "@/lib/api/types";

/** Milliseconds of quiet typing before a search runs. */
const DEBOUNCE_MS = 250;

export function SearchPanel(props: {
  conversations: ConversationView[];
  me: string;
  /** The open conversation, offered as the scope. */
  current: ConversationView | null;
  /** Search only the open conversation at first. */
  initialScope: "all" | "current";
  onPick: (hit: SearchHit) => void;
  onClose: () => void;
}) {
  const { conversations, me, current } = props;
  const [q, setQ] = useState("");
  const [scope, setScope] = useState<"all" | "current">(current ? props.initialScope : "all");
  const [results, setResults] = useState<SearchHit[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const conversationId = scope === "current" ? current?.id : undefined;

  useEffect(() => {
    const words = q.trim();
    if (!words) {
      setResults(null);
      setCursor(null);
      setError(null);
      return;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      setBusy(true);
      messages
        .search({ q, conversation_id: conversationId })
        .then((page) => {
          if (cancelled) return;
          setResults(page.results);
          setCursor(page.next_cursor);
          setError(null);
        })
        .catch((caught) => !cancelled && setError(describe(caught)))
        .finally(() => !cancelled && setBusy(false));
    }, DEBOUNCE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [q, conversationId]);

  async function more() {
    if (!cursor) return;
    try {
      const page = await messages.search({ q, conversation_id: conversationId, cursor });
      setResults([...(results ?? []), ...page.results]);
      setCursor(page.next_cursor);
    } catch (caught) {
      setError(describe(caught));
    }
  }

  const byId = new Map(conversations.map((c) => [c.id, c]));
  return (
    <aside aria-label="Search messages" className="flex w-full flex-col border-l border-slate-200 bg-white md:w-96">
      <div className="flex items-center justify-between border-b border-slate-100 px-4 py-2">
        <h2 className="text-sm font-semibold text-slate-700">Search messages</h2>
        <button onClick={props.onClose} aria-label="Close search" className="rounded-lg px-2 py-1 text-slate-500 hover:bg-slate-100">
          ✕
        </button>
      </div>
      <div className="space-y-2 border-b border-slate-100 p-4">
        <input
          type="search"
          autoFocus
          value={q}
          maxLength={200}
          onChange={(event) => setQ(event.target.value)}
          placeholder="Words, “a phrase”, -without"
          aria-label="Search messages"
          className="block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm"
        />
        {current && (
          <select
            value={scope}
            onChange={(event) => setScope(event.target.value as "all" | "current")}
            aria-label="Where to search"
            className="block w-full rounded-lg border border-slate-300 px-3 py-1.5 text-sm"
          >
            <option value="all">All conversations</option>
            <option value="current">In {conversationTitle(current, me)}</option>
          </select>
        )}
      </div>
      <div className="flex-1 overflow-y-auto" aria-live="polite" aria-busy={busy}>
        {error && (
          <p role="alert" className="p-4 text-sm text-rose-700">
            {error}
          </p>
        )}
        {!error && results?.length === 0 && <p className="p-4 text-sm text-slate-500">No messages found.</p>}
        {results && results.length > 0 && (
          <ul>
            {results.map((hit) => {
              const conversation = byId.get(hit.message.conversation_id);
              const mine = hit.message.sender_uuid === me;
              const sender = mine ? "You" : (conversation?.participants.find((u) => u.uuid === hit.message.sender_uuid)?.username ?? "Someone");
              // A direct conversation is named after the other member: the author is only news in a group, or when it is me.
              const title = conversation ? conversationTitle(conversation, me) : "Conversation";
              const heading = conversation?.is_group || mine ? `${title} · ${sender}` : title;
              return (
                <li key={hit.message.id}>
                  <button onClick={() => props.onPick(hit)} className="block w-full border-b border-slate-50 px-4 py-3 text-left hover:bg-slate-50" data-testid="search-result">
                    <span className="flex items-baseline justify-between gap-2 text-xs text-slate-500">
                      <span className="truncate font-medium text-slate-700">
                        {heading}
                      </span>
                      <span className="shrink-0">
                        {day(hit.message.created_at)} {time(hit.message.created_at)}
                      </span>
                    </span>
                    <span className="mt-1 block break-words text-sm text-slate-800">
                      {hit.snippet.map((part, index) =>
                        part.highlight ? (
                          <mark key={index} className="rounded bg-amber-200 px-0.5 text-slate-900">
                            {part.text}
                          </mark>
                        ) : (
                          <span key={index}>{part.text}</span>
                        ),
                      )}
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        )}
        {cursor && (
          <div className="p-4 text-center">
            <button onClick={() => void more()} className="rounded-lg px-3 py-1.5 text-sm font-medium text-indigo-600 hover:bg-indigo-50">
              More results
            </button>
          </div>
        )}
      </div>
    </aside>
  );
}
