// Unit tests of lib/oauth.ts: what people are told after a flow with a provider, and the bodies
// of the password and deletion calls with and without a password.

import { describe, expect, it } from "vitest";

import { ApiError } from "./api/client";
import { deletionRequest, explainFor, oauthErrorMessage, oauthNotice, passwordRequest, providerName, reauthMessage, signInMethodLabel } from "./oauth";

describe("providerName", () => {
  it("names the known providers, capitalises others, and has a stand-in for none", () => {
    expect(providerName("google")).toBe("Google");
    expect(providerName("github")).toBe("GitHub");
    expect(providerName("gitlab")).toBe("Gitlab");
    expect(providerName(null)).toBe("the provider");
    expect(providerName("")).toBe("the provider");
  });
});

describe("oauthErrorMessage", () => {
  it("says each code in plain words", () => {
    expect(oauthErrorMessage("access_denied")).toBe("Sign-in was cancelled.");
    expect(oauthErrorMessage("invalid_state")).toBe("That sign-in link expired or was already used. Try again.");
    expect(oauthErrorMessage("exchange_failed")).toBe("The provider could not confirm your sign-in. Try again.");
    expect(oauthErrorMessage("provider_error")).toBe("The provider could not confirm your sign-in. Try again.");
    expect(oauthErrorMessage("invalid_id_token")).toBe("The provider's answer could not be verified.");
    expect(oauthErrorMessage("email_unverified")).toBe("Your provider account has no verified email address.");
  });

  it("fills in the provider's name", () => {
    expect(oauthErrorMessage("email_in_use", "google")).toBe(
      "An account with this email already exists. Sign in with your password, then link Google from Settings.",
    );
    expect(oauthErrorMessage("identity_in_use", "github")).toBe("That GitHub account is already linked to another chat account.");
    expect(oauthErrorMessage("provider_already_linked", "google")).toBe("Your account already has a Google account linked.");
    // Without &provider=:
    expect(oauthErrorMessage("email_in_use")).toBe(
      "An account with this email already exists. Sign in with your password, then link the provider from Settings.",
    );
    expect(oauthErrorMessage("identity_in_use")).toBe("That provider account is already linked to another chat account.");
    expect(oauthErrorMessage("provider_already_linked")).toBe("Your account already has an account of that provider linked.");
  });

  it("has one message for anything unknown", () => {
    expect(oauthErrorMessage("something_new", "google")).toBe("Sign-in with the provider failed.");
    expect(oauthErrorMessage("")).toBe("Sign-in with the provider failed.");
  });
});

describe("oauthNotice", () => {
  it("reads ?oauth_error= (with &provider=) and ?linked=", () => {
    expect(oauthNotice("?oauth_error=email_in_use&provider=github")).toEqual({
      kind: "error",
      text: "An account with this email already exists. Sign in with your password, then link GitHub from Settings.",
    });
    expect(oauthNotice(new URLSearchParams({ oauth_error: "access_denied" }))).toEqual({ kind: "error", text: "Sign-in was cancelled." });
    expect(oauthNotice("?linked=google")).toEqual({ kind: "ok", text: "Google is linked." });
    expect(oauthNotice("?linked=github")).toEqual({ kind: "ok", text: "GitHub is linked." });
  });

  it("is null without either, and an error wins over a link", () => {
    expect(oauthNotice("")).toBeNull();
    expect(oauthNotice("?c=123")).toBeNull();
    expect(oauthNotice("?linked=google&oauth_error=invalid_state")?.kind).toBe("error");
  });
});

describe("reauthMessage and signInMethodLabel", () => {
  it("asks to sign in again for the action at hand", () => {
    expect(reauthMessage("link")).toBe("For your security, sign out and sign in again, then link within 10 minutes.");
    expect(reauthMessage("password")).toBe("For your security, sign out and sign in again, then set your password within 10 minutes.");
    expect(reauthMessage("delete")).toBe("For your security, sign out and sign in again, then delete your account within 10 minutes.");
  });

  it("explainFor puts the fresh-session rule in the action's words, else says the error as usual", () => {
    const reauth = new ApiError(403, "reauthentication_required", "Sign in again to make this change.");
    expect(explainFor("link")(reauth)).toBe("For your security, sign out and sign in again, then link within 10 minutes.");
    expect(explainFor("delete")(reauth)).toBe("For your security, sign out and sign in again, then delete your account within 10 minutes.");
    expect(explainFor("link")(new ApiError(409, "last_sign_in_method", "x"))).toBe(
      "Set a password or link another provider before unlinking your only way to sign in.",
    );
    expect(explainFor("password")(new ApiError(403, "invalid_credentials", "x"))).toBe("Wrong username, email or password.");
  });

  it("says how a session signed in", () => {
    expect(signInMethodLabel("password")).toBe("via password");
    expect(signInMethodLabel("google")).toBe("via Google");
    expect(signInMethodLabel("github")).toBe("via GitHub");
    expect(signInMethodLabel(undefined)).toBe("");
  });
});

describe("request bodies", () => {
  it("leaves the current password out for an account without one", () => {
    expect(passwordRequest(true, "old secret", "new secret")).toEqual({ current_password: "old secret", new_password: "new secret" });
    expect(passwordRequest(false, "ignored", "new secret")).toEqual({ new_password: "new secret" });
    expect(JSON.stringify(passwordRequest(false, "", "new secret"))).toBe('{"new_password":"new secret"}');
  });

  it("deletes with the password, or with an empty body", () => {
    expect(deletionRequest(true, "secret")).toEqual({ password: "secret" });
    expect(JSON.stringify(deletionRequest(false, "ignored"))).toBe("{}");
  });
});
