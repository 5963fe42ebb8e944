"use client";

// /signup: create an account, with live checks that the username and email are free.

import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

import { AuthCard, Field, SubmitButton } from "@/components/AuthCard";
import { ApiError, describe } from "@/lib/api/client";
import * as users from "@/lib/api/users";

/** Asks the server, a moment after typing stops, whether a value is free. */
function useAvailability(kind: "username" | "email", value: string, valid: boolean) {
  const [state, setState] = useState<"idle" | "checking" | "free" | "taken">("idle");
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

export default function SignUp() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ username: "", email: "", password: "", bio: "" });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const usernameValid = /^[A-Za-z0-9_.-]{3,32}$/.test(form.username);
  const emailValid = /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(form.email);
  const username = useAvailability("username", form.username, usernameValid);
  const email = useAvailability("email", form.email, emailValid);
  const set = (key: keyof typeof form) => (event: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [key]: event.target.value });

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      await users.register({ username: form.username, email: form.email.trim(), password: form.password, bio: form.bio || undefined });
      queryClient.clear(); // nothing cached of whoever used this tab before
      router.replace("/chat");
    } catch (caught) {
      if (caught instanceof ApiError && caught.details.length > 0) {
        setErrors(Object.fromEntries(caught.details.map((d) => [d.field, d.message])));
      } else if (caught instanceof ApiError && caught.code === "username_taken") {
        setErrors({ username: describe(caught) });
      } else if (caught instanceof ApiError && caught.code === "email_taken") {
        setErrors({ email: describe(caught) });
      } else {
        setError(describe(caught));
      }
      setBusy(false);
    }
  }

  const usernameHint =
    username === "checking" ? "Checking…" : username === "free" ? "✓ Available" : "3-32 letters, digits, _ . -";

  return (
    <AuthCard
      title="Create your account"
      subtitle="Chat with your friends in real time"
      footer={{ text: "Already have an account?", link: "/signin", label: "Sign in" }}
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        <Field label="Username" name="username" autoComplete="username" required value={form.username} onChange={set("username")}
          hint={usernameHint} error={errors.username ?? (username === "taken" ? "That username is taken." : undefined)} />
        <Field label="Email" name="email" type="email" autoComplete="email" required value={form.email} onChange={set("email")}
          hint={email === "free" ? "✓ Available" : undefined} error={errors.email ?? (email === "taken" ? "An account already uses that email." : undefined)} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" required value={form.password} onChange={set("password")}
          hint="At least 8 characters" error={errors.password} />
        <Field label="Bio (optional)" name="bio" value={form.bio} onChange={set("bio")} error={errors.bio} />
        {error && (
          <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700">
            {error}
          </p>
        )}
        <SubmitButton busy={busy}>Create account</SubmitButton>
      </form>
    </AuthCard>
  );
}
