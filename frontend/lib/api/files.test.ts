import { describe, expect, it } from "vitest";

import { ApiError } from "./client";
import { fileSize, isImage, uploadError } from "./files";

describe("uploads", () => {
  it("say why a file was refused", () => {
    expect(uploadError(new ApiError(413, "file_too_large", "x"), "25 MB")).toBe("Too large: files may be at most 25 MB.");
    expect(uploadError(new ApiError(413, "quota_exceeded", "x"), "25 MB")).toMatch(/storage is full/);
    expect(uploadError(new ApiError(415, "unsupported_file_type", "x"), "5 MB")).toMatch(/JPEG, PNG, GIF or WebP/);
    expect(uploadError(new ApiError(400, "invalid_image", "x"), "5 MB")).toBe("This image cannot be read.");
    expect(uploadError(new Error("boom"), "5 MB")).toBe("The upload failed. Try again.");
  });

  it("write sizes as people read them", () => {
    expect(fileSize(12)).toBe("12 bytes");
    expect(fileSize(340_400)).toBe("340 KB");
    expect(fileSize(2_500_000)).toBe("2.5 MB");
    expect(fileSize(25_000_000)).toBe("25 MB");
  });

  it("show only images with a thumbnail inline", () => {
    const file = { id: "a", name: "a", size: 1, width: null, height: null, url: "u" };
    expect(isImage({ ...file, content_type: "image/png", thumbnail_url: "t" })).toBe(true);
    expect(isImage({ ...file, content_type: "application/pdf", thumbnail_url: null })).toBe(false);
  });
});
