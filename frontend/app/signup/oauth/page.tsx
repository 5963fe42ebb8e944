"use client";

// /signup/oauth: the last step of signing up with a provider. The user-service sends the browser
// here after a provider vouched for a new identity (the pending sign-up rides in a cookie); the
// person picks a username (suggested from the provider's) and lands on /chat like after /signup.

import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

import { AuthCard, Field, SubmitButton } from "@/components/AuthCard";
import { ApiError, describe } from "@/lib/api/client";
import type { PendingSignup } from "@/lib/api/types";
import * as users from "@/lib/api/users";
import { providerName } from "@/lib/oauth";
import { isUsername, signupErrors, usernameHint } from "@/lib/signup";
import { useAvailability } from "@/lib/useAvailability";

type Loaded = { state: "loading" } | { state: "pending"; signup: PendingSignup } | { state: "expired" } | { state: "failed"; message: string };

const expired = (caught: unknown) => caught instanceof ApiError && caught.code === "signup_not_found";

export default function OAuthSignUp() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const [loaded, setLoaded] = useState<Loaded>({ state: "loading" });
  const [username, setUsername] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const valid = isUsername(username);
  const availability = useAvailability("username", username, loaded.state === "pending" && valid);

  useEffect(() => {
    let cancelled = false;
    users
      .pendingSignup()
      .then((signup) => {
        if (cancelled) return;
        setLoaded({ state: "pending", signup });
        setUsername(signup.suggested_username);
      })
      .catch((caught: unknown) => {
        if (!cancelled) setLoaded(expired(caught) ? { state: "expired" } : { state: "failed", message: describe(caught) });
      });
    return () => {
      cancelled = true;
    };
  }, []);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      await users.completeSignup({ username: username.trim() });
      queryClient.clear(); // nothing cached of whoever used this tab before
      router.replace("/chat");
    } catch (caught) {
      if (expired(caught)) {
        setLoaded({ state: "expired" });
      } else {
        const { fields, message } = signupErrors(caught);
        const { username: usernameError, ...others } = fields;
        setErrors(usernameError ? { username: usernameError } : {});
        // No other field here: an email the provider gave that got taken meanwhile, say.
        setError([message, ...Object.values(others)].filter(Boolean).join(" ") || null);
      }
      setBusy(false);
    }
  }

  return (
    <AuthCard
      title="Choose a username"
      subtitle="One more step to your account"
      footer={{ text: "Already have an account?", link: "/signin", label: "Sign in" }}
    >
      {loaded.state === "loading" && <p className="text-sm text-slate-500">Loading…</p>}
      {(loaded.state === "expired" || loaded.state === "failed") && (
        <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700">
          {loaded.state === "expired" ? "This sign-up expired." : loaded.message}{" "}
          <Link href="/signup" className="font-medium underline">
            Start again.
          </Link>
        </p>
      )}
      {loaded.state === "pending" && (
        <form onSubmit={submit} className="space-y-4" noValidate>
          <p className="text-sm text-slate-600">
            {`Signing up with ${providerName(loaded.signup.provider)} as ${loaded.signup.email}`}
          </p>
          <Field label="Username" name="username" autoComplete="username" required autoFocus value={username}
            onChange={(event) => setUsername(event.target.value)}
            hint={usernameHint(availability)} error={errors.username ?? (availability === "taken" ? "That username is taken." : undefined)} />
          {error && (
            <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700">
              {error}
            </p>
          )}
          <SubmitButton busy={busy}>Create account</SubmitButton>
        </form>
      )}
    </AuthCard>
  );
}
