// Mentions as text: the composer's `@` autocomplete (the token being typed, the members it
// may mean, inserting the pick), what a send mentions, and a message's text cut into plain
// parts and `@username` tokens to highlight. The server does not parse `@name`: the client
// chooses the tokens (`@username`, `@everyone`) and sends the uuids. Pure functions.

import type { PublicUser } from "@/lib/api/types";

export const EVERYONE = "everyone";

/** Characters of a username (user-service: `A-Z a-z 0-9 _ . -`). */
const NAME_CHAR = /[A-Za-z0-9_.-]/;

/** The `@token` the caret is in: where its `@` is and what follows it up to the caret. */
export type ActiveMention = { start: number; query: string };

export function activeMention(text: string, caret: number): ActiveMention | null {
  let start = caret;
  while (start > 0 && NAME_CHAR.test(text[start - 1])) start--;
  if (start === 0 || text[start - 1] !== "@") return null;
  const at = start - 1;
  // `a@b` is an address, not a mention.
  if (at > 0 && !/\s|[([{"'“‘]/.test(text[at - 1])) return null;
  return { start: at, query: text.slice(start, caret) };
}

/** One choice of the autocomplete. */
export type MentionOption = { uuid: string | null; username: string };

/** The members (not me) whose name starts with the query, `@everyone` first when I may use it. */
export function mentionOptions(members: PublicUser[], me: string, query: string, everyone: boolean, limit = 8): MentionOption[] {
  const q = query.toLowerCase();
  const options: MentionOption[] = everyone && EVERYONE.startsWith(q) ? [{ uuid: null, username: EVERYONE }] : [];
  for (const member of members) {
    if (member.uuid !== me && member.username.toLowerCase().startsWith(q)) options.push({ uuid: member.uuid, username: member.username });
  }
  return options.slice(0, limit);
}

/** The text with the active token replaced by `@username `, and where the caret goes. */
export function insertMention(text: string, caret: number, active: ActiveMention, username: string): { text: string; caret: number } {
  const inserted = `@${username} `;
  const after = text.slice(caret).replace(/^[A-Za-z0-9_.-]*\s?/, "");
  return { text: text.slice(0, active.start) + inserted + after, caret: active.start + inserted.length };
}

function tokenPattern(names: string[], flags = "gi"): RegExp | null {
  if (names.length === 0) return null;
  const escaped = [...names].sort((a, b) => b.length - a.length).map((name) => name.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"));
  // A name ends where no name character follows (a final `.` ends a sentence).
  return new RegExp(`@(${escaped.join("|")})(?![A-Za-z0-9_-]|\\.[A-Za-z0-9_-])`, flags);
}

/** Whether `text` still holds the token `@name`. */
export function hasToken(text: string, name: string): boolean {
  return tokenPattern([name], "i")?.test(text) ?? false;
}

/** What a send mentions: the picked members whose `@username` is still in the text, and
 * `@everyone` if it was picked and is still there. */
export function mentionsOf(text: string, picked: MentionOption[]): { mentions: string[]; mention_everyone: boolean } {
  const mentions = new Set<string>();
  let everyone = false;
  for (const option of picked) {
    if (!hasToken(text, option.username)) continue;
    if (option.uuid === null) everyone = true;
    else mentions.add(option.uuid);
  }
  return { mentions: [...mentions], mention_everyone: everyone };
}

/** A message's text cut into plain parts and the `@name` tokens of `names`. */
export function segments(text: string, names: string[]): { text: string; mention: boolean }[] {
  const pattern = tokenPattern(names);
  if (!pattern) return text ? [{ text, mention: false }] : [];
  const parts: { text: string; mention: boolean }[] = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const at = match.index ?? 0;
    if (at > 0 && !/\s|[([{"'“‘]/.test(text[at - 1])) continue;
    if (at > last) parts.push({ text: text.slice(last, at), mention: false });
    parts.push({ text: match[0], mention: true });
    last = at + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), mention: false });
  return parts;
}
