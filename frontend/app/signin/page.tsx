"use client";

// /signin: sign in with username or email and password, or with a provider (Google, GitHub).
// A failed provider sign-in comes back here as `?oauth_error=CODE[&provider=ID]`.

import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

import { AuthCard, Field, SubmitButton } from "@/components/AuthCard";
import { Notice } from "@/components/Notice";
import { OAuthButtons } from "@/components/OAuthButtons";
import { describe } from "@/lib/api/client";
import * as users from "@/lib/api/users";
import { oauthNotice, type OAuthNotice } from "@/lib/oauth";

export default function SignIn() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [returned, setReturned] = useState<OAuthNotice>(null);
  // Read after mount (the address is the browser's; no Suspense boundary needed for it).
  useEffect(() => setReturned(oauthNotice(window.location.search)), []);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await users.login({ login, password });
      queryClient.clear(); // nothing cached of whoever used this tab before
      router.replace("/chat");
    } catch (caught) {
      setError(describe(caught));
      setBusy(false);
    }
  }

  return (
    <AuthCard
      title="Welcome back"
      subtitle="Sign in with your username or email"
      footer={{ text: "New here?", link: "/signup", label: "Create an account" }}
    >
      <Notice notice={returned} className="mb-4" />
      <form onSubmit={submit} className="space-y-4" noValidate>
        <Field label="Username or email" name="login" autoComplete="username" required value={login} onChange={(e) => setLogin(e.target.value)} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        {error && (
          <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700">
            {error}
          </p>
        )}
        <SubmitButton busy={busy}>Sign in</SubmitButton>
      </form>
      <OAuthButtons />
    </AuthCard>
  );
}
