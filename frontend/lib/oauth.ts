// Sign-in with a provider, the pure parts: provider names, what to tell a person about a code
// the user-service puts in the web app's address after a flow (`?oauth_error=CODE&provider=ID`,
// `?linked=ID`), how a session signed in, and the bodies of the password and deletion calls for
// an account with or without a password.

import { ApiError, describe } from "@/lib/api/client";
import type { ChangePasswordRequest, DeleteAccountRequest, SignInMethod } from "@/lib/api/types";

const NAMES: Record<string, string> = { google: "Google", github: "GitHub" };

/** "Google" for `google`; an unknown id as written, capitalised; "the provider" for none. */
export function providerName(id: string | null | undefined): string {
  if (!id) return "the provider";
  return NAMES[id] ?? id.charAt(0).toUpperCase() + id.slice(1);
}

/** What to say about an `oauth_error` code (`provider` fills in the provider's name). */
export function oauthErrorMessage(code: string, provider?: string | null): string {
  const name = provider ? providerName(provider) : null;
  switch (code) {
    case "access_denied":
      return "Sign-in was cancelled.";
    case "invalid_state":
      return "That sign-in link expired or was already used. Try again.";
    case "exchange_failed":
    case "provider_error":
      return "The provider could not confirm your sign-in. Try again.";
    case "invalid_id_token":
      return "The provider's answer could not be verified.";
    case "email_unverified":
      return "Your provider account has no verified email address.";
    case "email_in_use":
      return `An account with this email already exists. Sign in with your password, then link ${name ?? "the provider"} from Settings.`;
    case "identity_in_use":
      return `That ${name ?? "provider"} account is already linked to another chat account.`;
    case "provider_already_linked":
      return name ? `Your account already has a ${name} account linked.` : "Your account already has an account of that provider linked.";
    default:
      return "Sign-in with the provider failed.";
  }
}

export type OAuthNotice = { kind: "ok" | "error"; text: string } | null;

/** The notice a page shows for the address it was sent back to (`?linked=`, `?oauth_error=`). */
export function oauthNotice(search: string | URLSearchParams): OAuthNotice {
  const params = typeof search === "string" ? new URLSearchParams(search) : search;
  const error = params.get("oauth_error");
  if (error) return { kind: "error", text: oauthErrorMessage(error, params.get("provider")) };
  const linked = params.get("linked");
  if (linked) return { kind: "ok", text: `${providerName(linked)} is linked.` };
  return null;
}

/** What to say when a change needs a fresh session (403 `reauthentication_required`). */
export function reauthMessage(action: "link" | "password" | "delete"): string {
  const what = action === "link" ? "link" : action === "password" ? "set your password" : "delete your account";
  return `For your security, sign out and sign in again, then ${what} within 10 minutes.`;
}

/** What to say about a failed link, password or deletion: the fresh-session rule in its words. */
export function explainFor(action: "link" | "password" | "delete"): (caught: unknown) => string {
  return (caught) =>
    caught instanceof ApiError && caught.code === "reauthentication_required" ? reauthMessage(action) : describe(caught);
}

/** "via Google" for a session's sign-in method ("" when the server did not say). */
export function signInMethodLabel(method: SignInMethod | null | undefined): string {
  if (!method) return "";
  return method === "password" ? "via password" : `via ${providerName(method)}`;
}

/** PUT /users/me/password: an account without a password leaves `current_password` out. */
export function passwordRequest(hasPassword: boolean, current: string, next: string): ChangePasswordRequest {
  return hasPassword ? { current_password: current, new_password: next } : { new_password: next };
}

/** DELETE /users/me: the password when the account has one, else nothing (`{}`). */
export function deletionRequest(hasPassword: boolean, password: string): DeleteAccountRequest {
  return hasPassword ? { password } : {};
}
