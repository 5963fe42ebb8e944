// Unit tests of the fetch core (lib/api/client.ts) against a stubbed fetch: JSON bodies,
// ApiError, one refresh and one retry on 401, query strings, what people are told.

import { afterEach, describe as group, expect, it, vi } from "vitest";

import { ApiError, describe, query, request } from "./client";
import * as messages from "./messages";
import * as users from "./users";

const json = (status: number, body?: unknown) => new Response(body === undefined ? null : JSON.stringify(body), { status });

function stubFetch(...answers: Response[]) {
  const fetch = vi.fn(async () => answers.shift() ?? json(500));
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

afterEach(async () => {
  vi.unstubAllGlobals();
  await new Promise((resolve) => setTimeout(resolve, 0)); // a refresh is shared until the next tick
});

group("request", () => {
  it("sends JSON with the cookies and returns the answer", async () => {
    const fetch = stubFetch(json(201, { id: "m1" }));
    await expect(messages.send("c1", { text: "hi", nonce: "n1" })).resolves.toEqual({ id: "m1" });
    expect(fetch).toHaveBeenCalledWith("http://127.0.0.1:5003/conversations/c1/messages", {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "hi", nonce: "n1" }),
    });
  });

  it("reactions put the emoji percent-encoded in the path; pins and the changes feed", async () => {
    const fetch = stubFetch(json(200, {}), json(200, {}), json(200, {}), json(200, { changes: [], version: 9, has_more: false }));
    await messages.react("c1", "m1", "❤️", true);
    await messages.react("c1", "m1", "👍", false);
    await messages.pin("c1", "m1", true);
    await expect(messages.changes("c1", 5)).resolves.toEqual({ changes: [], version: 9, has_more: false });
    const calls = fetch.mock.calls.map((call) => {
      const [url, init] = call as unknown as [string, RequestInit];
      return [init.method, url];
    });
    expect(calls).toEqual([
      ["PUT", "http://127.0.0.1:5003/conversations/c1/messages/m1/reactions/%E2%9D%A4%EF%B8%8F"],
      ["DELETE", "http://127.0.0.1:5003/conversations/c1/messages/m1/reactions/%F0%9F%91%8D"],
      ["PUT", "http://127.0.0.1:5003/conversations/c1/messages/m1/pin"],
      ["GET", "http://127.0.0.1:5003/conversations/c1/changes?since=5"],
    ]);
  });

  it("returns undefined for 204", async () => {
    stubFetch(json(204));
    await expect(request("friends", "/blocks/u1", { method: "PUT" })).resolves.toBeUndefined();
  });

  it("turns an error body into an ApiError with its code and details", async () => {
    const details = [{ field: "text", code: "too_long", message: "At most 4000 characters." }];
    stubFetch(json(422, { error: { code: "validation_failed", message: "Some fields are invalid.", details } }));
    const caught = await request("messages", "/x").catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(ApiError);
    expect(caught).toMatchObject({ status: 422, code: "validation_failed", details });
    expect(describe(caught)).toBe("At most 4000 characters.");
  });

  it("on 401 refreshes the session once and retries once", async () => {
    const fetch = stubFetch(json(401, { error: { code: "token_expired", message: "expired" } }), json(200, {}), json(200, { ok: true }));
    await expect(request("users", "/users/me")).resolves.toEqual({ ok: true });
    expect(fetch.mock.calls.map((call) => (call as unknown as [string])[0])).toEqual([
      "http://127.0.0.1:5001/users/me",
      "http://127.0.0.1:5001/auth/refresh",
      "http://127.0.0.1:5001/users/me",
    ]);
  });

  it("gives up with the 401 when the refresh fails, and never refreshes for /auth/ calls", async () => {
    stubFetch(json(401, { error: { code: "token_expired", message: "expired" } }), json(401));
    await expect(request("users", "/users/me")).rejects.toMatchObject({ status: 401, code: "token_expired" });
    const fetch = stubFetch(json(401, { error: { code: "invalid_credentials", message: "Wrong login or password." } }));
    await expect(request("users", "/auth/login", { method: "POST", body: {} })).rejects.toMatchObject({ code: "invalid_credentials" });
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it("linking a provider is an /auth/ call that refreshes on 401 like a signed-in call; signing in does not", async () => {
    const fetch = stubFetch(json(401, { error: { code: "token_expired", message: "expired" } }), json(200, {}), json(200, { authorize_url: "https://p/a" }));
    await expect(users.startOAuth("google", "link")).resolves.toEqual({ authorize_url: "https://p/a" });
    expect(fetch.mock.calls.map((call) => (call as unknown as [string])[0])).toEqual([
      "http://127.0.0.1:5001/auth/oauth/google/start",
      "http://127.0.0.1:5001/auth/refresh",
      "http://127.0.0.1:5001/auth/oauth/google/start",
    ]);
    const again = stubFetch(json(401, { error: { code: "missing_token", message: "Sign in." } }));
    await expect(users.startOAuth("github", "sign_in")).rejects.toMatchObject({ status: 401, code: "missing_token" });
    expect(again).toHaveBeenCalledTimes(1);
    expect(again).toHaveBeenCalledWith("http://127.0.0.1:5001/auth/oauth/github/start", {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ intent: "sign_in" }),
    });
  });

  it("deletes an account without a password with an empty body", async () => {
    const fetch = stubFetch(json(204));
    await users.deleteMe({});
    expect(fetch).toHaveBeenCalledWith("http://127.0.0.1:5001/users/me", expect.objectContaining({ method: "DELETE", body: "{}" }));
  });
});

group("query and describe", () => {
  it("query keeps defined values only, encoded", () => {
    expect(query({ limit: 50, before: undefined })).toBe("?limit=50");
    expect(query({ q: "a&b", limit: 10 })).toBe("?q=a%26b&limit=10");
    expect(query({ cursor: undefined })).toBe("");
  });

  it("describe says known codes in plain words, else the server's message", () => {
    expect(describe(new ApiError(401, "invalid_credentials", "Wrong login or password."))).toBe("Wrong username, email or password.");
    expect(describe(new ApiError(404, "message_not_found", "No such message."))).toBe("No such message.");
    expect(describe(new TypeError("fetch failed"))).toBe("Something went wrong. Check your connection and try again.");
  });
});
