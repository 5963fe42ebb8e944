// Unit tests of lib/signup.ts: username and email checks, the username hint, errors by field.

import { describe, expect, it } from "vitest";

import { ApiError } from "./api/client";
import { isEmail, isUsername, signupErrors, usernameHint } from "./signup";

describe("sign-up checks", () => {
  it("accepts 3-32 letters, digits, _ . - as a username", () => {
    expect(isUsername("alice")).toBe(true);
    expect(isUsername("a.b-c_9")).toBe(true);
    expect(isUsername("al")).toBe(false);
    expect(isUsername("x".repeat(33))).toBe(false);
    expect(isUsername("al ice")).toBe(false);
  });

  it("asks about an email only once it looks like one", () => {
    expect(isEmail("a@example.com")).toBe(true);
    expect(isEmail("a@example")).toBe(false);
  });

  it("hints at the rules until the server answers", () => {
    expect(usernameHint("idle")).toBe("3-32 letters, digits, _ . -");
    expect(usernameHint("taken")).toBe("3-32 letters, digits, _ . -");
    expect(usernameHint("checking")).toBe("Checking…");
    expect(usernameHint("free")).toBe("✓ Available");
  });
});

describe("signupErrors", () => {
  it("puts field errors and taken names under their fields, anything else on the form", () => {
    const details = [{ field: "username", code: "invalid", message: "3-32 letters, digits, _ . -" }];
    expect(signupErrors(new ApiError(422, "validation_failed", "Some fields are invalid.", details))).toEqual({
      fields: { username: "3-32 letters, digits, _ . -" },
      message: null,
    });
    expect(signupErrors(new ApiError(409, "username_taken", "taken"))).toEqual({ fields: { username: "That username is taken." }, message: null });
    expect(signupErrors(new ApiError(409, "email_taken", "taken"))).toEqual({ fields: { email: "An account already uses that email." }, message: null });
    expect(signupErrors(new ApiError(404, "signup_not_found", "gone"))).toEqual({ fields: {}, message: "This sign-up expired. Start again." });
  });
});
