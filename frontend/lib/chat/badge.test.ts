import { describe, expect, it } from "vitest";

import { faviconFor, titleFor } from "./badge";

describe("the unread badge", () => {
  it("puts the count in the tab title, capped at 99+", () => {
    expect(titleFor(0)).toBe("Chat");
    expect(titleFor(3)).toBe("(3) Chat");
    expect(titleFor(250)).toBe("(99+) Chat");
  });

  it("draws the count on the favicon only when there is one", () => {
    const plain = decodeURIComponent(faviconFor(0));
    const badged = decodeURIComponent(faviconFor(7));
    expect(plain).not.toContain("<circle");
    expect(badged).toContain("<circle");
    expect(badged).toContain(">7</text>");
    expect(decodeURIComponent(faviconFor(120))).toContain(">99+</text>");
  });
});
