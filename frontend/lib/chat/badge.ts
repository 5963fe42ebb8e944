// The unread count outside the page: in the tab's title ("(3) Chat") and as a badge on the
// favicon, so a background tab shows that something is waiting.

/** The tab title for `unread` messages. */
export function titleFor(unread: number, base = "Chat"): string {
  if (unread <= 0) return base;
  return `(${unread > 99 ? "99+" : unread}) ${base}`;
}

/** An SVG favicon: a speech bubble, with the count on a red badge when there is one. */
export function faviconFor(unread: number): string {
  const label = unread > 99 ? "99+" : String(unread);
  const badge =
    unread > 0
      ? `<circle cx="46" cy="18" r="18" fill="#e11d48"/><text x="46" y="25" font-family="Arial,sans-serif" font-size="${label.length > 2 ? 14 : 20}" font-weight="700" fill="#fff" text-anchor="middle">${label}</text>`
      : "";
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><path d="M8 14h40a6 6 0 0 1 6 6v22a6 6 0 0 1-6 6H26l-12 10V48H8a6 6 0 0 1-6-6V20a6 6 0 0 1 6-6Z" fill="#4f46e5"/>${badge}</svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** Shows `unread` in the document's title and favicon. */
export function showUnread(unread: number) {
  document.title = titleFor(unread);
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement("link");
    link.rel = "icon";
    document.head.appendChild(link);
  }
  link.type = "image/svg+xml";
  link.href = faviconFor(unread);
}
