"use client";

// The files of a message: images as thumbnails (sized from their dimensions, so the log does
// not jump as they load) that open a full-size viewer, other files as cards that download.

import { useEffect, useState } from "react";

import { AuthedImage } from "@/components/AuthedImage";
import { fileSize, isImage, openFile } from "@/lib/api/files";
import type { AttachmentView } from "@/lib/api/types";

import { Icon } from "./icons";

export function Attachments({ files, mine }: { files: AttachmentView[]; mine: boolean }) {
  const [viewing, setViewing] = useState<AttachmentView | null>(null);
  if (files.length === 0) return null;
  const images = files.filter(isImage);
  const others = files.filter((file) => !isImage(file));
  return (
    <div className="mt-1 space-y-1" data-testid="attachments">
      {images.length > 0 && (
        <div className="flex flex-wrap gap-1">
          {images.map((file) => {
            const scale = Math.min(1, 240 / Math.max(file.width ?? 240, file.height ?? 240));
            return (
              <button key={file.id} type="button" onClick={() => setViewing(file)} className="overflow-hidden rounded-lg bg-slate-200" aria-label={`Open ${file.name}`}>
                <AuthedImage
                  src={file.thumbnail_url ?? file.url}
                  alt={file.name}
                  width={Math.round((file.width ?? 240) * scale)}
                  height={Math.round((file.height ?? 240) * scale)}
                  className="block max-w-full object-cover"
                  data-testid="attachment-thumbnail"
                />
              </button>
            );
          })}
        </div>
      )}
      {others.map((file) => (
        <a
          key={file.id}
          href={file.url}
          download={file.name}
          onClick={(event) => {
            event.preventDefault();
            void openFile(file.url);
          }}
          className={`flex items-center gap-2 rounded-lg border px-2.5 py-2 text-left ${mine ? "border-indigo-400 bg-indigo-500 hover:bg-indigo-400" : "border-slate-200 bg-slate-50 hover:bg-slate-100"}`}
          data-testid="attachment-file"
        >
          <Icon name="file" className="h-6 w-6 shrink-0" />
          <span className="min-w-0">
            <span className="block truncate text-sm font-medium">{file.name}</span>
            <span className={`block text-xs ${mine ? "text-indigo-100" : "text-slate-500"}`}>{fileSize(file.size)}</span>
          </span>
        </a>
      ))}
      {viewing && <Viewer file={viewing} onClose={() => setViewing(null)} />}
    </div>
  );
}

/** The full-size image over the page; Escape, the backdrop or ✕ close it. */
function Viewer({ file, onClose }: { file: AttachmentView; onClose: () => void }) {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div role="dialog" aria-modal="true" aria-label={file.name} className="fixed inset-0 z-50 flex flex-col items-center justify-center bg-black/80 p-4" onClick={onClose}>
      <div className="mb-2 flex w-full max-w-5xl items-center justify-between text-sm text-white" onClick={(event) => event.stopPropagation()}>
        <span className="truncate">{file.name} · {fileSize(file.size)}</span>
        <span className="flex gap-2">
          <a
            href={file.url}
            download={file.name}
            onClick={(event) => {
              event.preventDefault();
              void openFile(file.url);
            }}
            className="rounded-lg bg-white/10 px-3 py-1.5 hover:bg-white/20"
          >
            Download
          </a>
          <button type="button" onClick={onClose} aria-label="Close" className="rounded-lg bg-white/10 px-2 py-1.5 hover:bg-white/20">
            <Icon name="close" />
          </button>
        </span>
      </div>
      <AuthedImage src={file.url} alt={file.name} className="max-h-[85vh] max-w-full rounded-lg object-contain" onClick={(event) => event.stopPropagation()} data-testid="attachment-full" />
    </div>
  );
}
