"use client";

// The user's notification settings (shared by Settings, the conversation's bell menu and the
// list's muted marks) and `save`: run a change, then show what the server stored; when it
// fails, reload what the server has and rethrow.

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";

import type { NotificationSettings } from "@/lib/api/types";
import { queries } from "@/lib/queries";

export function useNotificationSettings() {
  const queryClient = useQueryClient();
  const settings = useQuery(queries.notifications()).data ?? null;
  const save = useCallback(
    async (change: () => Promise<NotificationSettings>) => {
      const { queryKey } = queries.notifications();
      try {
        queryClient.setQueryData(queryKey, await change());
      } catch (caught) {
        await queryClient.invalidateQueries({ queryKey });
        throw caught;
      }
    },
    [queryClient],
  );
  return { settings, save };
}
