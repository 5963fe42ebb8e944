// Sign-up forms (/signup and /signup/oauth), the pure parts: what makes a username or email worth
// asking about, the username's hint, and which field an error answer belongs to.

import { ApiError, describe } from "@/lib/api/client";

export type Availability = "idle" | "checking" | "free" | "taken";

export const isUsername = (value: string) => /^[A-Za-z0-9_.-]{3,32}$/.test(value);
export const isEmail = (value: string) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value);

/** The line under the username field while it is typed. */
export function usernameHint(state: Availability): string {
  return state === "checking" ? "Checking…" : state === "free" ? "✓ Available" : "3-32 letters, digits, _ . -";
}

/** A failed sign-up as errors by field (shown under the fields) or one message for the form. */
export function signupErrors(caught: unknown): { fields: Record<string, string>; message: string | null } {
  if (caught instanceof ApiError && caught.details.length > 0) {
    return { fields: Object.fromEntries(caught.details.map((d) => [d.field, d.message])), message: null };
  }
  if (caught instanceof ApiError && caught.code === "username_taken") return { fields: { username: describe(caught) }, message: null };
  if (caught instanceof ApiError && caught.code === "email_taken") return { fields: { email: describe(caught) }, message: null };
  return { fields: {}, message: describe(caught) };
}
