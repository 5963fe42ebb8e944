// The bar on top of every signed-in page: the brand, the main navigation and, on the chat page,
// the connection state and my username (there the brand gives way at phone width).

import Link from "next/link";

import type { ConnectionState } from "@/lib/socket";

type Section = "chat" | "friends" | "settings";

export function AppHeader({ active, connection, username }: { active: Section; connection?: ConnectionState; username?: string }) {
  return (
    <header className="flex items-center justify-between border-b border-slate-200 bg-white px-4 py-2">
      <div className="flex items-center gap-3">
        <span className={`${connection ? "hidden sm:inline" : ""} text-lg font-semibold text-indigo-600`}>Chat</span>
        <NavBar active={active} />
      </div>
      {connection && (
        <div className="flex items-center gap-3 text-sm text-slate-500">
          <span aria-live="polite" className={`whitespace-nowrap ${connection === "online" ? "text-emerald-600" : "text-amber-600"}`}>
            {connection === "online" ? "●" : "○"}
            <span className="sr-only sm:not-sr-only">
              {connection === "online" ? " Connected" : connection === "connecting" ? " Connecting…" : " Offline, retrying…"}
            </span>
          </span>
          {username && <span className="hidden font-medium text-slate-700 sm:inline">{username}</span>}
        </div>
      )}
    </header>
  );
}

function NavBar({ active }: { active: Section }) {
  const item = (href: string, key: Section, label: string) => (
    <Link
      href={href}
      aria-current={active === key ? "page" : undefined}
      className={`rounded-lg px-3 py-1.5 text-sm font-medium ${active === key ? "bg-indigo-50 text-indigo-700" : "text-slate-600 hover:bg-slate-100"}`}
    >
      {label}
    </Link>
  );
  return (
    <nav className="flex items-center gap-1" aria-label="Main">
      {item("/chat", "chat", "Chats")}
      {item("/friends", "friends", "Friends")}
      {item("/settings", "settings", "Settings")}
    </nav>
  );
}
