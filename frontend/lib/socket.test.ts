// ChatSocket's connection states against a fake browser: a socket counts as lost the moment the
// browser goes offline (its close handshake cannot finish then), its late close event changes
// nothing, and coming back online reconnects at once.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("./api/users", () => ({ me: vi.fn(async () => ({})) }));
vi.mock("./api/messages", () => ({ changes: vi.fn() }));
vi.mock("./api/client", () => ({ baseUrl: () => "http://chat.test:8083" }));

import { ChatSocket, type ConnectionState } from "./socket";

class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 3;
  static opened: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  sent: string[] = [];
  closeCalls = 0;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.opened.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.closeCalls++;
  }
  /** The server's `ready`: the socket is open and the client online. */
  ready() {
    this.readyState = FakeSocket.OPEN;
    const ready = { user: { uuid: "u1", username: "ivy" }, session_id: "s1", conversations: [], next_cursor: null, presence: [] };
    this.onmessage?.({ data: JSON.stringify({ type: "ready", data: ready }) });
  }
  /** The close event the browser fires when the connection has ended. */
  ended(code: number) {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code });
  }
}

const browser = new EventTarget();

describe("ChatSocket", () => {
  let socket: ChatSocket;
  let states: ConnectionState[];

  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.opened = [];
    vi.stubGlobal("WebSocket", FakeSocket);
    vi.stubGlobal("window", { addEventListener: browser.addEventListener.bind(browser), removeEventListener: browser.removeEventListener.bind(browser), location: { assign: vi.fn() } });
    socket = new ChatSocket();
    states = [];
    socket.onState((state) => states.push(state));
  });

  afterEach(() => {
    socket.close();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("connects to the gateway and is online once ready", () => {
    expect(FakeSocket.opened.map((open) => open.url)).toEqual(["ws://chat.test:8083/ws"]);
    expect(states).toEqual(["connecting"]);
    FakeSocket.opened[0].ready();
    expect(socket.state).toBe("online");
  });

  it("is offline the moment the browser is, and fails what waits for an answer", async () => {
    const first = FakeSocket.opened[0];
    first.ready();
    const answer = socket.request("ping", {});
    browser.dispatchEvent(new Event("offline"));
    expect(socket.state).toBe("offline");
    expect(first.closeCalls).toBe(1);
    await expect(answer).resolves.toMatchObject({ type: "error", data: { error: { code: "offline" } } });
    // The close event that comes later is the same loss, not a second one.
    first.ended(1006);
    expect(states.filter((state) => state === "offline")).toHaveLength(1);
    await expect(socket.request("ping", {})).rejects.toThrow("offline");
  });

  it("reconnects at once when the browser is back online, and only once", async () => {
    FakeSocket.opened[0].ready();
    browser.dispatchEvent(new Event("offline"));
    await vi.advanceTimersByTimeAsync(0);
    browser.dispatchEvent(new Event("online"));
    expect(FakeSocket.opened).toHaveLength(2);
    expect(socket.state).toBe("connecting");
    // The back-off timer the loss had set does not open a third socket.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(FakeSocket.opened).toHaveLength(2);
    FakeSocket.opened[1].ready();
    expect(socket.state).toBe("online");
  });

  it("retries after a lost connection with a growing back-off", async () => {
    FakeSocket.opened[0].ended(1006);
    expect(socket.state).toBe("offline");
    // The first attempt waits 250-500 ms.
    await vi.advanceTimersByTimeAsync(249);
    expect(FakeSocket.opened).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(251);
    expect(FakeSocket.opened).toHaveLength(2);
    FakeSocket.opened[1].ended(1006);
    // The second attempt waits 0.5-1 s: not yet at 499 ms, surely by 1 s.
    await vi.advanceTimersByTimeAsync(499);
    expect(FakeSocket.opened).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(501);
    expect(FakeSocket.opened).toHaveLength(3);
  });

  it("sends a user whose session is refused to sign in, without retrying", async () => {
    FakeSocket.opened[0].ended(4001);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.opened).toHaveLength(1);
    expect((window.location.assign as ReturnType<typeof vi.fn>).mock.calls).toEqual([["/signin"]]);
  });
});
