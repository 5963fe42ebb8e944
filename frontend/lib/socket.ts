// One reconnecting WebSocket per tab. It remembers the highest message `seq` seen per
// conversation and, after every reconnect, asks the server to replay what it missed
// (`resume`), so nothing is lost while offline (docs/websocket.md).

import { baseUrl } from "./api/client";
import * as users from "./api/users";
import { isAnswer, type AnswerFrame, type ClientData, type ClientFrameType, type ServerFrame, type ServerFrameOf } from "./frames";

type Listener = (frame: ServerFrame) => void;

export type ConnectionState = "connecting" | "online" | "offline";

export class ChatSocket {
  private socket: WebSocket | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<(state: ConnectionState) => void>();
  private seen = new Map<string, number>();
  private pending = new Map<string, (frame: AnswerFrame) => void>();
  private attempts = 0;
  private closed = false;
  private counter = 0;
  state: ConnectionState = "connecting";

  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly goneOffline = () => this.socket?.close();
  private readonly backOnline = () => {
    // Back online: reconnect now rather than at the next back-off step.
    if (this.state === "online") return;
    this.attempts = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!this.socket || this.socket.readyState === WebSocket.CLOSED) this.connect();
  };

  constructor() {
    // The browser knows before TCP does when the network is gone.
    window.addEventListener("offline", this.goneOffline);
    window.addEventListener("online", this.backOnline);
    this.connect();
  }

  /** Records that the client has every message of `conversation` up to `seq`. */
  markSeen(conversation: string, seq: number) {
    if (seq > (this.seen.get(conversation) ?? 0)) this.seen.set(conversation, seq);
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
      if (frame.type === "message.created") this.markSeen(frame.data.conversation_id, frame.data.seq);
      if (isAnswer(frame) && frame.data.ref) {
        this.pending.get(frame.data.ref)?.(frame);
        this.pending.delete(frame.data.ref);
      }
      this.listeners.forEach((listener) => listener(frame));
    };
    socket.onclose = async (event) => {
      this.setState("offline");
      this.pending.forEach((resolve) =>
        resolve({ type: "error", data: { ref: null, error: { code: "offline", message: "Connection lost." } } }),
      );
      this.pending.clear();
      if (this.closed) return;
      if (event.code === 4001) {
        window.location.assign("/signin");
        return;
      }
      // The access cookie may have expired while the socket was open: a cheap authenticated
      // call refreshes it first (and sends the user to sign-in if the session is gone).
      await users.me().catch(() => undefined);
      const delay = Math.min(10_000, 500 * 2 ** this.attempts++) * (0.5 + Math.random() / 2);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.connect();
      }, delay);
    };
  }

  /** After `ready`: replays what was missed in conversations the client has seen before. */
  private resume(ready: ServerFrameOf<"ready">) {
    const conversations = (ready.data.conversations ?? [])
      .filter((conversation) => {
        const seen = this.seen.get(conversation.id);
        return seen !== undefined && conversation.last_seq > seen;
      })
      .map((conversation) => ({
        conversation_id: conversation.id,
        last_seq: this.seen.get(conversation.id) ?? 0,
      }));
    if (conversations.length > 0) this.send("resume", { conversations });
  }
}
