// One reconnecting WebSocket per tab. It remembers, per conversation, the highest message
// `seq` and `version` the client has (lib/positions.ts) and, after every reconnect, asks the
// server to replay what it missed (`resume` with `last_seq` and `last_version`): new messages,
// and edits, deletions, reactions and pins of older ones as `message.updated`. A replay cut
// short (`changes_truncated`) is finished over REST (`GET …/changes?since=`), its messages
// handed to the listeners as `message.updated` frames too. So nothing is lost while offline
// (docs/websocket.md).

import { baseUrl } from "./api/client";
import * as messages from "./api/messages";
import type { MessageView } from "./api/types";
import * as users from "./api/users";
import { isAnswer, type AnswerFrame, type ClientData, type ClientFrameType, type ServerFrame, type ServerFrameOf } from "./frames";
import { Positions } from "./positions";

/** Most changes pages fetched for one conversation after one `resume.done`. */
const MAX_CHANGES_PAGES = 20;

type Listener = (frame: ServerFrame) => void;

export type ConnectionState = "connecting" | "online" | "offline";

export class ChatSocket {
  private socket: WebSocket | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<(state: ConnectionState) => void>();
  private positions = new Positions();
  private pending = new Map<string, (frame: AnswerFrame) => void>();
  private attempts = 0;
  private closed = false;
  private counter = 0;
  state: ConnectionState = "connecting";

  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  // Closing a socket waits for the server's close frame, which cannot come while the network is
  // gone; the socket counts as lost at once instead.
  private readonly goneOffline = () => {
    if (this.socket) void this.lost(this.socket, 1006);
  };
  private readonly backOnline = () => {
    // Back online: reconnect now rather than at the next back-off step.
    if (this.state === "online") return;
    this.attempts = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!this.socket) this.connect();
  };

  constructor() {
    // The browser knows before TCP does when the network is gone.
    window.addEventListener("offline", this.goneOffline);
    window.addEventListener("online", this.backOnline);
    this.connect();
  }

  /** Records a page of `conversation`'s history the client now shows. */
  noteHistory(conversation: string, page: MessageView[]) {
    this.positions.history(conversation, page);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  /** Sends a frame; resolves with the answer (`ack`, `message.ack`, `pong` or `error`). */
  request<K extends ClientFrameType>(type: K, data: ClientData[K], timeoutMs = 10_000): Promise<AnswerFrame> {
    const ref = `r${++this.counter}`;
    return new Promise((resolve, reject) => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
        reject(new Error("offline"));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new Error("timeout"));
      }, timeoutMs);
      this.pending.set(ref, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      this.socket.send(JSON.stringify({ type, data, ref }));
    });
  }

  /** Fire-and-forget (typing). */
  send<K extends ClientFrameType>(type: K, data: ClientData[K]) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type, data }));
  }

  close() {
    this.closed = true;
    window.removeEventListener("offline", this.goneOffline);
    window.removeEventListener("online", this.backOnline);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.close();
  }

  private setState(state: ConnectionState) {
    this.state = state;
    this.stateListeners.forEach((listener) => listener(state));
  }

  private connect() {
    if (this.closed) return;
    this.setState("connecting");
    const url = `${baseUrl("messages").replace(/^http/, "ws")}/ws`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onmessage = (event) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as ServerFrame;
      } catch {
        return;
      }
      if (typeof frame?.type !== "string") return;
      if (frame.type === "ready") {
        this.attempts = 0;
        this.setState("online");
        this.resume(frame);
      }
      this.positions.frame(frame);
      if (frame.type === "resume.done") {
        this.positions.resumed(frame.data.conversations).forEach(({ conversation, since }) => void this.catchUp(conversation, since));
      }
      if (isAnswer(frame) && frame.data.ref) {
        this.pending.get(frame.data.ref)?.(frame);
        this.pending.delete(frame.data.ref);
      }
      this.listeners.forEach((listener) => listener(frame));
    };
    socket.onclose = (event) => void this.lost(socket, event.code);
  }

  /** Handles the end of `socket` once (its close event, or the browser going offline first):
   * fails what waits for an answer and schedules the next attempt. */
  private async lost(socket: WebSocket, code: number) {
    if (socket !== this.socket) return;
    this.socket = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.close();
    this.setState("offline");
    this.pending.forEach((resolve) =>
      resolve({ type: "error", data: { ref: null, error: { code: "offline", message: "Connection lost." } } }),
    );
    this.pending.clear();
    if (this.closed) return;
    if (code === 4001) {
      window.location.assign("/signin");
      return;
    }
    // The access cookie may have expired while the socket was open: a cheap authenticated
    // call refreshes it first (and sends the user to sign-in if the session is gone).
    await users.me().catch(() => undefined);
    // Back online meanwhile: `backOnline` has connected already.
    if (this.closed || this.socket) return;
    // 4029: this user holds as many sockets as allowed (other tabs); wait for one to close.
    const backoff = code === 4029 ? 30_000 : Math.min(10_000, 500 * 2 ** this.attempts++);
    const delay = backoff * (0.5 + Math.random() / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  /** After `ready`: replays what was missed in conversations the client has seen before. */
  private resume(ready: ServerFrameOf<"ready">) {
    const conversations = this.positions.resumePoints(ready.data.conversations ?? []);
    if (conversations.length > 0) this.send("resume", { conversations });
  }

  /** Pages the changes a replay left out, handing each changed message on as `message.updated`.
   * A failed page stops here: the next `resume` starts from the version reached. */
  private async catchUp(conversation: string, since: number) {
    for (let page = 0; page < MAX_CHANGES_PAGES && !this.closed; page++) {
      const changes = await messages.changes(conversation, since).catch(() => null);
      if (!changes) return;
      changes.changes.forEach((message) => this.listeners.forEach((listener) => listener({ type: "message.updated", data: message })));
      this.positions.changes(conversation, changes);
      if (!changes.has_more) return;
      since = changes.version;
    }
  }
}
