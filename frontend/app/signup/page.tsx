"use client";

// /signup: create an account, with live checks that the username and email are free, or
// continue with a provider (a new identity then picks its username on /signup/oauth).

import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";

import { AuthCard, Field, SubmitButton } from "@/components/AuthCard";
import { OAuthButtons } from "@/components/OAuthButtons";
import * as users from "@/lib/api/users";
import { isEmail, isUsername, signupErrors, usernameHint } from "@/lib/signup";
import { useAvailability } from "@/lib/useAvailability";

export default function SignUp() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ username: "", email: "", password: "", bio: "" });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const usernameValid = isUsername(form.username);
  const emailValid = isEmail(form.email);
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
      const { fields, message } = signupErrors(caught);
      setErrors(fields);
      setError(message);
      setBusy(false);
    }
  }

  return (
    <AuthCard
      title="Create your account"
      subtitle="Chat with your friends in real time"
      footer={{ text: "Already have an account?", link: "/signin", label: "Sign in" }}
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        <Field label="Username" name="username" autoComplete="username" required value={form.username} onChange={set("username")}
          hint={usernameHint(username)} error={errors.username ?? (username === "taken" ? "That username is taken." : undefined)} />
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
      <OAuthButtons />
    </AuthCard>
  );
}
