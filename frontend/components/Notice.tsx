"use client";

// A page's success/error line (role status/alert) and the hook that fills it.

import { useCallback, useState } from "react";

import { describe } from "@/lib/api/client";

export type NoticeState = { kind: "ok" | "error"; text: string } | null;

/** A page's success/error line, and `act`: run an API action, report it (`explain` words a failure
 * when `describe` would not say it well), then `after` (reload). `show` sets the line directly. */
export function useNotice(after?: () => Promise<unknown>) {
  const [notice, setNotice] = useState<NoticeState>(null);
  const fail = useCallback((caught: unknown) => setNotice({ kind: "error", text: describe(caught) }), []);
  const act = async (action: () => Promise<unknown>, done: string, explain: (caught: unknown) => string = describe) => {
    try {
      await action();
      setNotice({ kind: "ok", text: done });
      await after?.();
    } catch (caught) {
      setNotice({ kind: "error", text: explain(caught) });
    }
  };
  return { notice, act, fail, show: setNotice };
}

export function Notice({ notice, className = "" }: { notice: NoticeState; className?: string }) {
  if (!notice) return null;
  return (
    <p
      role={notice.kind === "error" ? "alert" : "status"}
      className={`rounded-lg px-3 py-2 text-sm ${notice.kind === "error" ? "bg-rose-50 text-rose-700" : "bg-emerald-50 text-emerald-700"} ${className}`}
    >
      {notice.text}
    </p>
  );
}
