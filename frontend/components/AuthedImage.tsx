"use client";

// An <img> of a file the services serve only to signed-in readers (avatars, group pictures,
// attachments). The access cookie may expire while a page stays open, and an image request
// cannot refresh it: on a failed load the session is refreshed once and the image asked
// again; `onFailed` runs if it still does not load.

import { useState } from "react";

import { refreshSession } from "@/lib/api/client";

type Props = React.ImgHTMLAttributes<HTMLImageElement> & { src: string; onFailed?: () => void };

export function AuthedImage({ src, onFailed, ...props }: Props) {
  const [attempt, setAttempt] = useState(0);
  return (
    <img
      {...props}
      key={`${src}#${attempt}`}
      src={src}
      onError={() => {
        if (attempt > 0) {
          onFailed?.();
          return;
        }
        void refreshSession().then((refreshed) => (refreshed ? setAttempt(1) : onFailed?.()));
      }}
    />
  );
}
