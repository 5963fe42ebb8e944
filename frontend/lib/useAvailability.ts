// Whether a username or email is still free, asked a moment after typing stops (sign-up forms).

import { useEffect, useState } from "react";

import * as users from "@/lib/api/users";
import type { Availability } from "@/lib/signup";

export function useAvailability(kind: "username" | "email", value: string, valid: boolean): Availability {
  const [state, setState] = useState<Availability>("idle");
  useEffect(() => {
    if (!valid) {
      setState("idle");
      return;
    }
    setState("checking");
    const timer = setTimeout(async () => {
      try {
        const answer = await users.available(kind, value);
        setState(answer.available ? "free" : "taken");
      } catch {
        setState("idle");
      }
    }, 350);
    return () => clearTimeout(timer);
  }, [kind, value, valid]);
  return state;
}
