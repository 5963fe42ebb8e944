"use client";

// /settings: my profile (with its picture), how I sign in (password, linked Google / GitHub: link, unlink), my password
// (or a first one for an account made through a provider), notifications, where I am signed in (sign
// out one device, this one or all), and account deletion (confirmed with the password in a dialog,
// or without one for an account that has none). Linking comes back here as `?linked=ID` or
// `?oauth_error=CODE[&provider=ID]`.

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

import { AppHeader } from "@/components/AppHeader";
import { buttonStyles, Modal, ModalClose } from "@/components/Dialog";
import { NotificationSection } from "@/components/NotificationSection";
import { Notice, useNotice } from "@/components/Notice";
import { ProviderIcon } from "@/components/OAuthButtons";
import { PictureUpload } from "@/components/PictureUpload";
import * as files from "@/lib/api/files";
import type { Provider } from "@/lib/api/types";
import * as users from "@/lib/api/users";
import { deletionRequest, explainFor, oauthNotice, passwordRequest, providerName, signInMethodLabel } from "@/lib/oauth";
import { queries } from "@/lib/queries";

/** "Chrome on Linux" from a User-Agent. */
function device(agent: string | null): string {
  if (!agent) return "Unknown device";
  const browser = /Edg\//.test(agent) ? "Edge" : /Firefox\//.test(agent) ? "Firefox" : /Chrome\//.test(agent) ? "Chrome" : /Safari\//.test(agent) ? "Safari" : "A browser";
  const system = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS" : /Windows/.test(agent) ? "Windows" : /Mac OS X/.test(agent) ? "macOS" : /Linux/.test(agent) ? "Linux" : "an unknown system";
  return `${browser} on ${system}`;
}

export default function SettingsPage() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const meQuery = useQuery(queries.me());
  const sessionsQuery = useQuery(queries.sessions());
  const methodsQuery = useQuery(queries.signInMethods());
  const enabled = useQuery(queries.providers()).data ?? [];
  const me = meQuery.data ?? null;
  const sessions = sessionsQuery.data?.sessions ?? null;
  const methods = methodsQuery.data ?? null;
  // Until the server says otherwise, an account has a password (the forms as they always were).
  const hasPassword = methods?.has_password ?? true;
  const [profile, setProfile] = useState({ username: "", email: "", bio: "" });
  const [passwords, setPasswords] = useState({ current_password: "", new_password: "" });
  const [deleting, setDeleting] = useState(false);
  const [linking, setLinking] = useState<Provider | null>(null);
  const { notice, act, fail, show } = useNotice(() => queryClient.invalidateQueries({ queryKey: ["users"] }));

  // Back from linking a provider: say how it went.
  useEffect(() => {
    const returned = oauthNotice(window.location.search);
    if (returned) show(returned);
  }, [show]);

  // The form starts from what is stored, and again after every change.
  useEffect(() => {
    if (me) setProfile({ username: me.username, email: me.email, bio: me.bio ?? "" });
  }, [me]);
  const failed = meQuery.error ?? sessionsQuery.error ?? methodsQuery.error;
  useEffect(() => {
    if (failed) fail(failed);
  }, [failed, fail]);

  async function signOut(everywhere: boolean) {
    try {
      await (everywhere ? users.logoutAll() : users.logout());
    } finally {
      router.replace("/signin");
    }
  }

  async function deleteAccount(password: string) {
    try {
      await users.deleteMe(deletionRequest(hasPassword, password));
      router.replace("/signup");
    } catch (caught) {
      show({ kind: "error", text: explainFor("delete")(caught) });
    }
  }

  /** Starts linking a provider (needs a session signed in within 10 minutes); the browser goes there. */
  async function link(provider: Provider) {
    setLinking(provider);
    try {
      const { authorize_url } = await users.startOAuth(provider, "link");
      window.location.assign(authorize_url);
    } catch (caught) {
      show({ kind: "error", text: explainFor("link")(caught) });
      setLinking(null);
    }
  }

  // Every enabled provider, and any linked one no longer offered (it can still be unlinked).
  const identities = methods?.identities ?? [];
  const providerRows = [
    ...enabled.map((provider) => ({ id: provider.id, name: provider.name || providerName(provider.id) })),
    ...identities
      .filter((identity) => !enabled.some((provider) => provider.id === identity.provider))
      .map((identity) => ({ id: identity.provider, name: providerName(identity.provider) })),
  ];

  const input = "mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20";
  const section = "rounded-2xl border border-slate-200 bg-white p-4 shadow-sm";
  const primary = "rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500";
  return (
    <div className="min-h-full">
      <AppHeader active="settings" />
      <main className="mx-auto max-w-2xl space-y-4 p-4">
        <Notice notice={notice} />
        <section className={section} aria-labelledby="profile">
          <h2 id="profile" className="font-semibold">Profile</h2>
          {me === null ? (
            <p className="mt-2 text-sm text-slate-500">Loading…</p>
          ) : (
            <>
            <div className="mt-3">
              <PictureUpload
                name={me.username}
                src={me.profile_picture}
                label="Upload picture"
                onUpload={async (file, onProgress) => {
                  queryClient.setQueryData(queries.me().queryKey, await files.setAvatar(file, onProgress));
                  void queryClient.invalidateQueries({ queryKey: ["users"] });
                }}
                onRemove={async () => {
                  queryClient.setQueryData(queries.me().queryKey, await files.removeAvatar());
                  void queryClient.invalidateQueries({ queryKey: ["users"] });
                }}
              />
            </div>
            <form
              className="mt-4 space-y-3"
              onSubmit={(event) => {
                event.preventDefault();
                act(() => users.updateMe({ ...profile, username: profile.username.trim(), email: profile.email.trim(), bio: profile.bio.trim() ? profile.bio : null }), "Profile saved.");
              }}
            >
              <label className="block text-sm font-medium">Username<input className={input} value={profile.username} onChange={(e) => setProfile({ ...profile, username: e.target.value })} /></label>
              <label className="block text-sm font-medium">Email<input className={input} type="email" value={profile.email} onChange={(e) => setProfile({ ...profile, email: e.target.value })} /></label>
              <label className="block text-sm font-medium">Bio<input className={input} value={profile.bio} onChange={(e) => setProfile({ ...profile, bio: e.target.value })} /></label>
              <button className={primary}>Save profile</button>
            </form>
            </>
          )}
        </section>
        <section className={section} aria-labelledby="sign-in-methods">
          <h2 id="sign-in-methods" className="font-semibold">Sign-in methods</h2>
          {methods === null ? (
            <p className="mt-2 text-sm text-slate-500">{methodsQuery.error ? "Could not load your sign-in methods." : "Loading…"}</p>
          ) : (
            <ul className="mt-2 divide-y divide-slate-100">
              <li className="flex items-center gap-3 py-2 text-sm">
                <span className="flex-1">
                  <span className="block font-medium">Password</span>
                  <span className="text-xs text-slate-500">{methods.has_password ? "Set" : "Not set"}</span>
                </span>
              </li>
              {providerRows.map((provider) => {
                const identity = identities.find((candidate) => candidate.provider === provider.id);
                return (
                  <li key={provider.id} className="flex items-center gap-3 py-2 text-sm">
                    <ProviderIcon provider={provider.id} className="h-5 w-5 shrink-0" />
                    <span className="min-w-0 flex-1">
                      <span className="block font-medium">{provider.name}</span>
                      <span className="block truncate text-xs text-slate-500">
                        {identity ? `${identity.email ?? "Linked"} · since ${new Date(identity.linked_at).toLocaleDateString()}` : "Not linked"}
                      </span>
                    </span>
                    {identity ? (
                      <button
                        aria-label={`Unlink ${provider.name}`}
                        className="rounded-lg px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100"
                        onClick={() => act(() => users.unlink(provider.id), `${provider.name} is unlinked.`)}
                      >
                        Unlink
                      </button>
                    ) : (
                      <button
                        aria-label={`Link ${provider.name}`}
                        disabled={linking !== null}
                        className="rounded-lg border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-50 disabled:opacity-60"
                        onClick={() => link(provider.id)}
                      >
                        Link
                      </button>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
        </section>
        <section className={section} aria-labelledby="password">
          <h2 id="password" className="font-semibold">{hasPassword ? "Password" : "Set a password"}</h2>
          {!hasPassword && <p className="mt-1 text-sm text-slate-500">Then you can also sign in with your username or email and this password.</p>}
          <form
            className="mt-2 space-y-3"
            onSubmit={(event) => {
              event.preventDefault();
              act(
                () => users.changePassword(passwordRequest(hasPassword, passwords.current_password, passwords.new_password)),
                hasPassword ? "Password changed; your other sessions were signed out." : "Password set; your other sessions were signed out.",
                explainFor("password"),
              );
              setPasswords({ current_password: "", new_password: "" });
            }}
          >
            {hasPassword && (
              <label className="block text-sm font-medium">Current password<input className={input} type="password" autoComplete="current-password" value={passwords.current_password} onChange={(e) => setPasswords({ ...passwords, current_password: e.target.value })} /></label>
            )}
            <label className="block text-sm font-medium">New password<input className={input} type="password" autoComplete="new-password" value={passwords.new_password} onChange={(e) => setPasswords({ ...passwords, new_password: e.target.value })} /></label>
            <button className={primary}>{hasPassword ? "Change password" : "Set password"}</button>
          </form>
        </section>
        <NotificationSection className={section} onError={fail} />
        <section className={section} aria-labelledby="sessions">
          <h2 id="sessions" className="font-semibold">Where you are signed in</h2>
          <ul className="mt-2 divide-y divide-slate-100">
            {(sessions ?? []).map((session) => (
              <li key={session.session_id} className="flex items-center gap-3 py-2 text-sm">
                <span className="flex-1">
                  <span className="block font-medium" title={session.user_agent ?? undefined}>{device(session.user_agent)}</span>
                  <span className="text-xs text-slate-500">
                    Since {new Date(session.created_at).toLocaleString()}
                    {session.sign_in_method && ` · ${signInMethodLabel(session.sign_in_method)}`}
                  </span>
                </span>
                {session.current ? (
                  <span className="rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700">This device</span>
                ) : (
                  <button className="rounded-lg px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100" onClick={() => act(() => users.revokeSession(session.session_id), "Session signed out.")}>
                    Sign out
                  </button>
                )}
              </li>
            ))}
          </ul>
          <div className="mt-3 flex flex-wrap gap-2">
            <button className="rounded-lg border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-50" onClick={() => signOut(false)}>
              Sign out
            </button>
            <button className="rounded-lg border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-50" onClick={() => signOut(true)}>
              Sign out everywhere
            </button>
          </div>
        </section>
        <section className={`${section} border-rose-200`} aria-labelledby="danger">
          <h2 id="danger" className="font-semibold text-rose-700">Delete account</h2>
          <p className="mt-1 text-sm text-slate-500">Your account, friendships and direct conversations are removed for good.</p>
          <button className="mt-3 rounded-lg bg-rose-600 px-4 py-2 text-sm font-semibold text-white hover:bg-rose-500" onClick={() => setDeleting(true)}>
            Delete my account
          </button>
          {deleting && <DeleteAccountDialog withPassword={hasPassword} onClose={() => setDeleting(false)} onConfirm={deleteAccount} />}
        </section>
      </main>
    </div>
  );
}

/** Account deletion, confirmed with the password (an account without one just confirms). */
function DeleteAccountDialog({ withPassword, onClose, onConfirm }: { withPassword: boolean; onClose: () => void; onConfirm: (password: string) => void }) {
  const [password, setPassword] = useState("");
  return (
    <Modal title="Delete your account?" onClose={onClose}>
      <form
        className="space-y-3"
        onSubmit={(event) => {
          event.preventDefault();
          onClose();
          onConfirm(password);
        }}
      >
        <p className="text-sm text-slate-600">
          {withPassword ? "This deletes your account and conversations. Enter your password to confirm." : "This deletes your account and conversations."}
        </p>
        {withPassword && (
          <label className="block text-sm font-medium">
            Password
            <input
              type="password"
              required
              autoComplete="current-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              className="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20"
            />
          </label>
        )}
        <div className="flex justify-end gap-2">
          <ModalClose />
          <button type="submit" disabled={withPassword && !password} className={buttonStyles.danger}>
            Delete my account
          </button>
        </div>
      </form>
    </Modal>
  );
}
