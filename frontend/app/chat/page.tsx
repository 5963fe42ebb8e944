"use client";

// /chat: the conversation list, the open conversation with its composer, and the group
// panels, laid out for phone and desktop on top of useChat (lib/chat/useChat.ts).

import { Fragment, useEffect, useState } from "react";

import { AppHeader } from "@/components/AppHeader";
import { Composer } from "@/components/chat/Composer";
import { ConversationList } from "@/components/chat/ConversationList";
import { MessagePane } from "@/components/chat/MessagePane";
import { SearchPanel } from "@/components/chat/SearchPanel";
import { GroupPanel, NewGroupDialog } from "@/components/GroupPanel";
import { showUnread } from "@/lib/chat/badge";
import { useChat } from "@/lib/chat/useChat";
import { registerWorker } from "@/lib/push";

export default function ChatPage() {
  const chat = useChat();
  const { me, current, selected } = chat;
  const [newGroup, setNewGroup] = useState(false);
  const [details, setDetails] = useState(false);
  /** The search panel, open on all conversations or the open one. */
  const [search, setSearch] = useState<"all" | "current" | null>(null);
  /** A search result to show: its conversation opens at it. */
  const [jump, setJump] = useState<{ conversation: string; message: string } | null>(null);
  // The unread count in the tab's title and favicon; the service worker for notifications.
  const unread = (chat.conversations ?? []).reduce((sum, conversation) => sum + conversation.unread_count, 0);
  useEffect(() => showUnread(unread), [unread]);
  useEffect(() => void registerWorker(), []);

  return (
    <div className="flex h-full flex-col">
      <AppHeader active="chat" connection={chat.connection} username={me?.username} />
      {chat.error && (
        <div role="alert" className="flex items-center justify-between bg-rose-50 px-4 py-2 text-sm text-rose-700">
          {chat.error}
          <button onClick={chat.dismissError} className="font-medium underline" aria-label="Dismiss error">
            Dismiss
          </button>
        </div>
      )}
      <div className="flex min-h-0 flex-1">
        <ConversationList
          conversations={chat.conversations}
          me={me?.uuid ?? ""}
          presence={chat.presence}
          selected={selected}
          onSelect={(id) => {
            chat.select(id);
            setDetails(false);
          }}
          onNewGroup={() => setNewGroup(true)}
          onSearch={() => {
            setSearch("all");
            setDetails(false);
          }}
        />
        <main className={`${selected && !(details && current?.is_group) && !search ? "flex" : "hidden md:flex"} min-w-0 flex-1 flex-col`}>
          {current && me ? (
            <Fragment key={current.id}>
              <MessagePane
                conversation={current}
                me={me.uuid}
                messages={chat.messages}
                loaded={chat.loaded}
                hasMore={chat.hasMore}
                firstUnread={chat.firstUnread}
                presence={chat.presence}
                typists={chat.typists}
                onBack={() => chat.select(null)}
                onOlder={chat.loadOlder}
                onReveal={chat.reveal}
                onFillGap={chat.fillGap}
                jumpTo={jump?.conversation === current.id ? jump.message : null}
                onJumped={() => setJump(null)}
                onSearch={() => {
                  setSearch("current");
                  setDetails(false);
                }}
                actions={{ retry: chat.retry, reply: chat.setReplyTo, react: chat.react, pin: chat.pin, edit: chat.edit }}
                onDelete={chat.remove}
                onDetails={
                  current.is_group
                    ? () => {
                        setDetails(!details);
                        setSearch(null);
                      }
                    : undefined
                }
              />
              <Composer
                conversation={current}
                me={me.uuid}
                replyTo={chat.replyTo}
                onCancelReply={() => chat.setReplyTo(null)}
                onSend={chat.send}
                onTyping={chat.typing}
              />
            </Fragment>
          ) : (
            <div className="flex flex-1 items-center justify-center text-sm text-slate-500">Pick a conversation, or start one from Friends.</div>
          )}
        </main>
        {search && me && (
          <SearchPanel
            key={search}
            conversations={chat.conversations ?? []}
            me={me.uuid}
            current={current}
            initialScope={search}
            onClose={() => setSearch(null)}
            onPick={(hit) => {
              setSearch(null);
              setJump({ conversation: hit.message.conversation_id, message: hit.message.id });
              chat.select(hit.message.conversation_id);
            }}
          />
        )}
        {details && current?.is_group && me && !search && (
          <GroupPanel
            key={current.id}
            group={current}
            me={me.uuid}
            onClose={() => setDetails(false)}
            onLeft={() => {
              setDetails(false);
              chat.select(null);
              chat.refreshList();
            }}
          />
        )}
      </div>
      {newGroup && (
        <NewGroupDialog
          onClose={() => setNewGroup(false)}
          onCreated={(id) => {
            setNewGroup(false);
            chat.refreshList();
            chat.select(id);
          }}
        />
      )}
    </div>
  );
}
