"use client";

// Client-side context of every page: one TanStack Query client per tab. Server state is
// fetched when a page mounts and after the user changes it (no retries, no refetch on focus:
// the pages behave as they did with hand-written fetches, plus a cache across pages).

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState } from "react";

export function Providers({ children }: { children: React.ReactNode }) {
  const [client] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } }));
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
