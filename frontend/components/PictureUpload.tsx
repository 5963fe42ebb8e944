"use client";

// A picture to change: my avatar (Settings) or a group's (its panel, admin only). Shows the
// current one round (never cropped: the whole picture, scaled to fill the circle), a preview of
// the chosen file while it uploads, the progress, and what was wrong if it was refused.

import { useEffect, useRef, useState } from "react";

import { Avatar } from "@/components/ui";
import { uploadError, type Progress } from "@/lib/api/files";

/** GROUP_PICTURE_MAX_BYTES's and AVATAR_MAX_BYTES's default. */
const PICTURE_LIMIT = "5 MB";

export function PictureUpload({ name, src, label, onUpload, onRemove }: {
  name: string;
  src: string | null;
  label: string;
  onUpload: (file: File, onProgress: Progress) => Promise<unknown>;
  onRemove: () => Promise<unknown>;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => () => {
    if (preview) URL.revokeObjectURL(preview);
  }, [preview]);

  async function choose(file: File) {
    setError(null);
    setPreview(URL.createObjectURL(file));
    setProgress(0);
    try {
      await onUpload(file, setProgress);
    } catch (caught) {
      setError(uploadError(caught, PICTURE_LIMIT));
    } finally {
      setProgress(null);
      setPreview(null);
    }
  }

  const button = "rounded-lg px-3 py-1.5 text-sm font-medium";
  return (
    <div className="flex items-center gap-4">
      <span className="relative">
        {preview ? (
          <img src={preview} alt="" className="h-20 w-20 rounded-full object-cover opacity-70" />
        ) : (
          <Avatar name={name} src={src} size="h-20 w-20" />
        )}
      </span>
      <div className="space-y-1.5">
        <div className="flex gap-2">
          <input
            ref={input}
            type="file"
            accept="image/jpeg,image/png,image/gif,image/webp"
            hidden
            aria-label={label}
            onChange={(event) => {
              const file = event.target.files?.[0];
              event.target.value = "";
              if (file) void choose(file);
            }}
          />
          <button type="button" className={`${button} bg-indigo-600 text-white hover:bg-indigo-500 disabled:opacity-50`} disabled={progress !== null} onClick={() => input.current?.click()}>
            {progress !== null ? `Uploading… ${Math.round(progress * 100)}%` : label}
          </button>
          {src && progress === null && (
            <button
              type="button"
              className={`${button} text-slate-600 hover:bg-slate-100`}
              onClick={() => {
                setError(null);
                onRemove().catch((caught: unknown) => setError(uploadError(caught, PICTURE_LIMIT)));
              }}
            >
              Remove
            </button>
          )}
        </div>
        <p className="text-xs text-slate-500">JPEG, PNG, GIF or WebP, up to {PICTURE_LIMIT}.</p>
        {error && (
          <p className="text-xs text-rose-700" role="alert">
            {error}
          </p>
        )}
      </div>
    </div>
  );
}
