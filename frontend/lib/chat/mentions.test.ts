// Unit tests of the mention helpers (lib/chat/mentions.ts).

import { describe, expect, it } from "vitest";

import type { PublicUser } from "@/lib/api/types";

import { activeMention, insertMention, mentionOptions, mentionsOf, segments } from "./mentions";

const user = (uuid: string, username: string): PublicUser => ({ uuid, username, bio: null, profile_picture: null, created_at: "2024-01-01T00:00:00Z" });
const members = [user("a", "ann"), user("b", "bob"), user("b2", "bobby.tables"), user("c", "Cid")];

describe("activeMention", () => {
  it("finds the @token the caret is in, at the start or after a space", () => {
    expect(activeMention("@", 1)).toEqual({ start: 0, query: "" });
    expect(activeMention("hi @bo", 6)).toEqual({ start: 3, query: "bo" });
    expect(activeMention("hi @bo there", 6)).toEqual({ start: 3, query: "bo" });
    expect(activeMention("(@b", 3)).toEqual({ start: 1, query: "b" });
  });

  it("is none without an @, after a space past the token, or inside an address", () => {
    expect(activeMention("hello", 5)).toBeNull();
    expect(activeMention("@bob ", 5)).toBeNull();
    expect(activeMention("mail ann@example", 16)).toBeNull();
  });
});

describe("mentionOptions", () => {
  it("lists the other members by prefix, case-insensitively", () => {
    expect(mentionOptions(members, "a", "bo", false).map((o) => o.username)).toEqual(["bob", "bobby.tables"]);
    expect(mentionOptions(members, "a", "", false).map((o) => o.username)).toEqual(["bob", "bobby.tables", "Cid"]);
    expect(mentionOptions(members, "a", "ci", false).map((o) => o.uuid)).toEqual(["c"]);
  });

  it("offers @everyone first when allowed and it fits the query", () => {
    expect(mentionOptions(members, "a", "", true)[0]).toEqual({ uuid: null, username: "everyone" });
    expect(mentionOptions(members, "a", "ev", true)).toEqual([{ uuid: null, username: "everyone" }]);
    expect(mentionOptions(members, "a", "bo", true).map((o) => o.username)).toEqual(["bob", "bobby.tables"]);
  });
});

describe("insertMention", () => {
  it("replaces the token with @username and a space, caret after it", () => {
    const text = "hi @bo";
    expect(insertMention(text, 6, { start: 3, query: "bo" }, "bob")).toEqual({ text: "hi @bob ", caret: 8 });
    expect(insertMention("hi @bo and", 6, { start: 3, query: "bo" }, "bobby.tables")).toEqual({ text: "hi @bobby.tables and", caret: 17 });
  });
});

describe("mentionsOf", () => {
  const bob = { uuid: "b", username: "bob" };
  const everyone = { uuid: null, username: "everyone" };

  it("keeps the picked members whose token is still in the text", () => {
    expect(mentionsOf("hi @bob.", [bob])).toEqual({ mentions: ["b"], mention_everyone: false });
    expect(mentionsOf("hi @bobby", [bob])).toEqual({ mentions: [], mention_everyone: false });
    expect(mentionsOf("hi bob", [bob, bob])).toEqual({ mentions: [], mention_everyone: false });
    expect(mentionsOf("@everyone @bob @bob", [everyone, bob, bob])).toEqual({ mentions: ["b"], mention_everyone: true });
  });
});

describe("segments", () => {
  it("cuts the text around the tokens of the given names, longest name first", () => {
    expect(segments("hi @bob and @bobby.tables.", ["bob", "bobby.tables"])).toEqual([
      { text: "hi ", mention: false },
      { text: "@bob", mention: true },
      { text: " and ", mention: false },
      { text: "@bobby.tables", mention: true },
      { text: ".", mention: false },
    ]);
  });

  it("leaves other @words, addresses and texts without names alone", () => {
    expect(segments("mail bob@bob.com or @bobcat", ["bob"])).toEqual([{ text: "mail bob@bob.com or @bobcat", mention: false }]);
    expect(segments("plain", [])).toEqual([{ text: "plain", mention: false }]);
    expect(segments("@everyone look", ["everyone"])).toEqual([
      { text: "@everyone", mention: true },
      { text: " look", mention: false },
    ]);
  });
});
