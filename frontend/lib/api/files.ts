// Uploads (attachments, my avatar, a group's picture) and what to say when one is refused.
// A file goes as the raw request body, through XMLHttpRequest: fetch cannot report upload
// progress. Like other signed-in calls, an expired access token is refreshed once and the
// upload sent again.

import { ApiError, baseUrl, refreshSession, request, type Service } from "./client";
import type { AttachmentView, ConversationView, CurrentUser, ErrorBody } from "./types";

/** Progress of one upload, 0 to 1. */
export type Progress = (fraction: number) => void;

/** Sends `file` as the body of `method path`; resolves with the JSON answer. Abort with `signal`. */
export function upload<T>(service: Service, method: "POST" | "PUT", path: string, file: Blob, onProgress?: Progress, signal?: AbortSignal, retry = true): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, `${baseUrl(service)}${path}`);
    xhr.withCredentials = true;
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded / event.total);
    };
    xhr.onload = async () => {
      if (xhr.status === 401 && retry && (await refreshSession())) {
        upload<T>(service, method, path, file, onProgress, signal, false).then(resolve, reject);
        return;
      }
      let json: unknown;
      try {
        json = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        json = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.(1);
        resolve(json as T);
        return;
      }
      const error: Partial<ErrorBody["error"]> = (json as Partial<ErrorBody> | undefined)?.error ?? {};
      reject(new ApiError(xhr.status, error.code ?? (xhr.status === 413 ? "file_too_large" : "unknown"), error.message ?? "The upload failed.", error.details ?? []));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "The upload failed: check your connection."));
    xhr.onabort = () => reject(new DOMException("cancelled", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

/** Uploads a file to attach to the next message. */
export const attach = (file: File, onProgress?: Progress, signal?: AbortSignal) =>
  upload<AttachmentView>("messages", "POST", `/attachments?name=${encodeURIComponent(file.name || "file")}`, file, onProgress, signal);
/** Takes back an upload no message carries yet. */
export const removeUpload = (id: string) => request<void>("messages", `/attachments/${id}`, { method: "DELETE" });

export const setAvatar = (file: Blob, onProgress?: Progress) => upload<CurrentUser>("users", "PUT", "/users/me/avatar", file, onProgress);
export const removeAvatar = () => request<CurrentUser>("users", "/users/me/avatar", { method: "DELETE" });

export const setGroupPicture = (conversationId: string, file: Blob, onProgress?: Progress) =>
  upload<ConversationView>("messages", "PUT", `/conversations/${conversationId}/picture`, file, onProgress);
export const removeGroupPicture = (conversationId: string) => request<ConversationView>("messages", `/conversations/${conversationId}/picture`, { method: "DELETE" });

/** What to tell a person about a refused upload. */
export function uploadError(error: unknown, limit: string): string {
  if (error instanceof ApiError) {
    switch (error.code) {
      case "file_too_large":
        return `Too large: files may be at most ${limit}.`;
      case "quota_exceeded":
        return "Your storage is full: delete some files first.";
      case "unsupported_file_type":
        return "Choose an image: JPEG, PNG, GIF or WebP.";
      case "image_too_large":
        return "This image has too many pixels.";
      case "invalid_image":
        return "This image cannot be read.";
      case "validation_failed":
        return "This file is empty.";
      default:
        return error.message;
    }
  }
  return "The upload failed. Try again.";
}

/** `2.5 MB`, `340 KB`, `12 bytes`. */
export function fileSize(bytes: number): string {
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(bytes >= 10_000_000 ? 0 : 1)} MB`;
  if (bytes >= 1_000) return `${Math.round(bytes / 1_000)} KB`;
  return `${bytes} bytes`;
}

/** Whether an attachment is an image we show inline. */
export const isImage = (attachment: AttachmentView) => attachment.thumbnail_url !== null && attachment.content_type.startsWith("image/");

/** Opens a file of ours for download (its `Content-Disposition` makes it one, so the page
 * stays): the access cookie may have expired while the page sat open, so a quick `HEAD`
 * first refreshes the session when it has. */
export async function openFile(url: string): Promise<void> {
  const check = await fetch(url, { method: "HEAD", credentials: "include" }).catch(() => null);
  if (check?.status === 401) await refreshSession();
  window.location.assign(url);
}
