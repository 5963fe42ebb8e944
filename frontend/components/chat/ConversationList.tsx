"use client";

// The conversations column: most recently active first, with presence, previews, unread and
// mention badges, a muted mark, and the "Search" and "New group" buttons. At phone width it gives the screen to an open conversation.

import { Avatar, conversationTitle, otherMember, time } from "@/components/ui";
import type { ConversationView } from "@/lib/api/types";
import type { Presence } from "@/lib/frames";
import { useNotificationSettings } from "@/lib/useNotificationSettings";

import { Icon } from "./icons";

export function ConversationList({
  conversations,
  me,
  presence,
  selected,
  onSelect,
  onNewGroup,
  onSearch,
}: {
  conversations: ConversationView[] | null;
  me: string;
  presence: Record<string, Presence>;
  selected: string | null;
  onSelect: (id: string) => void;
  onNewGroup: () => void;
  onSearch: () => void;
}) {
  const muted = new Set(useNotificationSettings().settings?.muted_conversations ?? []);
  return (
    <aside className={`${selected ? "hidden md:flex" : "flex"} w-full flex-col border-r border-slate-200 bg-white md:w-80`} aria-label="Conversations">
      <div className="flex items-center justify-between border-b border-slate-100 px-4 py-2">
        <h1 className="text-sm font-semibold text-slate-700">Conversations</h1>
        <span className="flex gap-1">
          <button onClick={onSearch} className="rounded-lg px-2 py-1 text-sm font-medium text-indigo-600 hover:bg-indigo-50">
            Search
          </button>
          <button onClick={onNewGroup} className="rounded-lg px-2 py-1 text-sm font-medium text-indigo-600 hover:bg-indigo-50">
            New group
          </button>
        </span>
      </div>
      {conversations === null ? (
        <p className="p-4 text-sm text-slate-500">Loading conversations…</p>
      ) : conversations.length === 0 ? (
        <p className="p-4 text-sm text-slate-500">No conversations yet. Add friends, then say hello.</p>
      ) : (
        <ul className="flex-1 overflow-y-auto">
          {conversations.map((conversation) => {
            const other = otherMember(conversation, me);
            const title = conversationTitle(conversation, me);
            return (
              <li key={conversation.id}>
                <button
                  onClick={() => onSelect(conversation.id)}
                  aria-current={selected === conversation.id ? "true" : undefined}
                  className={`flex w-full items-center gap-3 px-4 py-3 text-left hover:bg-slate-50 ${selected === conversation.id ? "bg-indigo-50" : ""}`}
                >
                  <Avatar name={title} src={conversation.is_group ? conversation.picture : other?.profile_picture} online={other ? (presence[other.uuid]?.online ?? false) : undefined} />
                  <span className="min-w-0 flex-1">
                    <span className="flex items-baseline justify-between gap-2">
                      <span className="flex min-w-0 items-center gap-1">
                        <span className="truncate font-medium">{title}</span>
                        {muted.has(conversation.id) && (
                          <span title="Muted" className="shrink-0 text-slate-400" data-testid="muted-mark">
                            <Icon name="bellOff" className="h-3.5 w-3.5" />
                            <span className="sr-only">Muted</span>
                          </span>
                        )}
                      </span>
                      {conversation.last_message && <span className="shrink-0 text-xs text-slate-400">{time(conversation.last_message.created_at)}</span>}
                    </span>
                    <span className="flex items-center justify-between gap-2">
                      <span className="truncate text-sm text-slate-500">{conversation.last_message?.preview || (conversation.last_message ? "Message deleted" : "No messages yet")}</span>
                      {(conversation.mention_count ?? 0) > 0 && (
                        <span
                          aria-label={`${conversation.mention_count} mention${conversation.mention_count === 1 ? "" : "s"}`}
                          data-testid="mention-badge"
                          className="shrink-0 rounded-full bg-amber-500 px-2 py-0.5 text-xs font-semibold text-white"
                        >
                          @{conversation.mention_count}
                        </span>
                      )}
                      {conversation.unread_count > 0 && (
                        <span aria-label={`${conversation.unread_count} unread`} className="shrink-0 rounded-full bg-indigo-600 px-2 py-0.5 text-xs font-semibold text-white">
                          {conversation.unread_count}
                        </span>
                      )}
                    </span>
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </aside>
  );
}
