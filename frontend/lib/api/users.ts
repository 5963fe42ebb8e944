// user-service (port 5001): sign-up, sign-in and out, sessions, my account, other people's
// profiles and search.

import { query, request } from "./client";
import type {
  AuthResponse,
  Availability,
  ChangePasswordRequest,
  CurrentUser,
  LoginRequest,
  PublicUser,
  RegisterRequest,
  SessionList,
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

export const sessions = () => request<SessionList>("users", "/auth/sessions");
export const revokeSession = (sessionId: string) => request<void>("users", `/auth/sessions/${sessionId}`, { method: "DELETE" });

export const me = () => request<CurrentUser>("users", "/users/me");
export const updateMe = (body: UpdateMeRequest) => request<CurrentUser>("users", "/users/me", { method: "PATCH", body });
export const changePassword = (body: ChangePasswordRequest) => request<void>("users", "/users/me/password", { method: "PUT", body });
export const deleteMe = (password: string) => request<void>("users", "/users/me", { method: "DELETE", body: { password } });

export const search = (q: string, { limit }: { limit?: number } = {}) => request<UserPage>("users", `/users/search${query({ q, limit })}`);
export const byUsername = (username: string) => request<PublicUser>("users", `/users/by-username/${encodeURIComponent(username)}`);
