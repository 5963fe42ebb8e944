// user-service (port 5001): sign-up, sign-in and out (with a password or a provider), sessions,
// my account and its sign-in methods, other people's profiles and search.

import { query, request } from "./client";
import type {
  AuthResponse,
  Availability,
  ChangePasswordRequest,
  CompleteSignupRequest,
  CurrentUser,
  DeleteAccountRequest,
  LoginRequest,
  OAuthIntent,
  PendingSignup,
  Provider,
  ProviderList,
  PublicUser,
  RegisterRequest,
  SessionList,
  SignInMethods,
  StartOAuthResponse,
  UpdateMeRequest,
  UserPage,
} from "./types";

export const register = (body: RegisterRequest) => request<AuthResponse>("users", "/auth/register", { method: "POST", body });
export const login = (body: LoginRequest) => request<AuthResponse>("users", "/auth/login", { method: "POST", body });
export const logout = () => request<void>("users", "/auth/logout", { method: "POST" });
export const logoutAll = () => request<void>("users", "/auth/logout-all", { method: "POST" });
/** Whether a username or email is still free for a new account. */
export const available = (kind: "username" | "email", value: string) =>
  request<Availability>("users", `/auth/check-${kind}${query({ [kind]: value })}`);

/** The providers enabled on this server (none when none is configured). */
export const providers = () => request<ProviderList>("users", "/auth/providers");
/** Starts a flow (sets its cookie): the browser then goes to `authorize_url`. `link` needs a signed-in
 * caller, so a 401 refreshes the session like other signed-in calls. */
export const startOAuth = (provider: Provider, intent: OAuthIntent) =>
  request<StartOAuthResponse>("users", `/auth/oauth/${provider}/start`, { method: "POST", body: { intent }, refresh: intent === "link" });
/** The sign-up with a provider waiting for a username in this browser (404 `signup_not_found`). */
export const pendingSignup = () => request<PendingSignup>("users", "/auth/oauth/signup");
export const completeSignup = (body: CompleteSignupRequest) => request<AuthResponse>("users", "/auth/oauth/signup", { method: "POST", body });

// Signed-in calls under /auth/: an expired access token is refreshed like elsewhere.
export const sessions = () => request<SessionList>("users", "/auth/sessions", { refresh: true });
export const revokeSession = (sessionId: string) =>
  request<void>("users", `/auth/sessions/${sessionId}`, { method: "DELETE", refresh: true });

export const me = () => request<CurrentUser>("users", "/users/me");
export const updateMe = (body: UpdateMeRequest) => request<CurrentUser>("users", "/users/me", { method: "PATCH", body });
export const changePassword = (body: ChangePasswordRequest) => request<void>("users", "/users/me/password", { method: "PUT", body });
/** `{}` for an account without a password (lib/oauth.ts `deletionRequest`). */
export const deleteMe = (body: DeleteAccountRequest) => request<void>("users", "/users/me", { method: "DELETE", body });
export const signInMethods = () => request<SignInMethods>("users", "/users/me/sign-in-methods");
export const unlink = (provider: Provider) => request<void>("users", `/users/me/identities/${provider}`, { method: "DELETE" });

export const search = (q: string, { limit }: { limit?: number } = {}) => request<UserPage>("users", `/users/search${query({ q, limit })}`);
export const byUsername = (username: string) => request<PublicUser>("users", `/users/by-username/${encodeURIComponent(username)}`);
