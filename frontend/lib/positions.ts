// What the client has of each conversation, for catching up after a reconnect
// (docs/websocket.md, "Resuming without loss" and "Changes while away: versions"): the highest
// message `seq` it has, and the conversation `version` its messages are up to date with. Pure
// bookkeeping (no socket, no fetch): lib/socket.ts feeds it frames and pages and sends what it
// says.
//
// A version is only raised when everything before it is known to have arrived: by live frames,
// by a history page (current state, so the newest version among its messages is a safe lower
// bound), by `resume.done` and by changes pages. While a conversation's replay is under way
// (from `resume` until `resume.done`, and on through the changes pages when the replay was cut
// short) frames do not raise it, so a connection lost half-way replays the rest next time.

import type { ChangesPage, ConversationView, MessageView } from "./api/types";
import type { Resumed, ResumePoint, ServerFrame } from "./frames";

export class Positions {
  private seqs = new Map<string, number>();
  private versions = new Map<string, number>();
  private catchingUp = new Set<string>();

  /** The highest `seq` the client has of `conversation` (undefined: it shows none of it). */
  seq(conversation: string): number | undefined {
    return this.seqs.get(conversation);
  }

  /** The version the client's copy of `conversation` is up to date with. */
  version(conversation: string): number | undefined {
    return this.versions.get(conversation);
  }

  /** A page of history was shown (an empty one too: from now on the conversation is shown). */
  history(conversation: string, messages: MessageView[]) {
    this.raiseSeq(conversation, 0);
    messages.forEach((message) => this.raiseSeq(conversation, message.seq));
    if (!this.versions.has(conversation)) this.versions.set(conversation, Math.max(0, ...messages.map((m) => m.version ?? 0)));
  }

  /** A live (or replayed) frame. */
  frame(frame: ServerFrame) {
    switch (frame.type) {
      case "message.created":
        this.raiseSeq(frame.data.conversation_id, frame.data.seq);
        this.raiseVersion(frame.data.conversation_id, frame.data.version);
        return;
      case "message.updated":
      case "message.deleted":
      case "message.pinned":
      case "message.unpinned":
      case "reaction.added":
      case "reaction.removed":
        this.raiseVersion(frame.data.conversation_id, frame.data.version);
        return;
    }
  }

  /** After `ready`: the conversations to resume, from where the client is. Conversations it
   * shows nothing of take the ready's version (their history, when loaded, is current). */
  resumePoints(conversations: ConversationView[]): ResumePoint[] {
    this.catchingUp.clear();
    const points: ResumePoint[] = [];
    for (const conversation of conversations) {
      const seq = this.seqs.get(conversation.id);
      const version = this.versions.get(conversation.id);
      if (seq === undefined) {
        this.versions.set(conversation.id, conversation.version ?? 0);
        continue;
      }
      const newMessages = conversation.last_seq > seq;
      const changed = version !== undefined && (conversation.version ?? 0) > version;
      if (!newMessages && !changed) continue;
      points.push({ conversation_id: conversation.id, last_seq: seq, ...(version === undefined ? {} : { last_version: version }) });
      this.catchingUp.add(conversation.id);
    }
    return points;
  }

  /** `resume.done`: the versions the replay brought the client to, and the conversations whose
   * changes were cut short, to page over REST from `since`. */
  resumed(conversations: Resumed[]): { conversation: string; since: number }[] {
    const more: { conversation: string; since: number }[] = [];
    for (const done of conversations) {
      this.raiseSeq(done.conversation_id, done.last_seq);
      this.versions.set(done.conversation_id, Math.max(this.versions.get(done.conversation_id) ?? 0, done.version ?? 0));
      if (done.changes_truncated) more.push({ conversation: done.conversation_id, since: this.versions.get(done.conversation_id) ?? 0 });
      else this.catchingUp.delete(done.conversation_id);
    }
    return more;
  }

  /** A changes page (`GET …/changes?since=`) was applied. */
  changes(conversation: string, page: ChangesPage) {
    this.versions.set(conversation, Math.max(this.versions.get(conversation) ?? 0, page.version));
    if (!page.has_more) this.catchingUp.delete(conversation);
  }

  private raiseSeq(conversation: string, seq: number) {
    if (seq > (this.seqs.get(conversation) ?? -1)) this.seqs.set(conversation, seq);
  }

  private raiseVersion(conversation: string, version: number | undefined) {
    if (version === undefined || this.catchingUp.has(conversation)) return;
    if (version > (this.versions.get(conversation) ?? -1)) this.versions.set(conversation, version);
  }
}
