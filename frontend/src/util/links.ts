// Splits message text into plain text and safe links, for rendering as
// text nodes and <a> elements (never as HTML). linkifyjs finds the links;
// only http and https targets become links, so javascript:, data: or
// file: URLs stay plain text.
import { find } from "linkifyjs";

export type Segment = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

/** safeHref returns an absolute http(s) URL for a found link, or null. */
export function safeHref(href: string): string | null {
  try {
    const u = new URL(href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

/** segments cuts text into text and link pieces, in order; joined, they give text back. */
export function segments(text: string): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const l of find(text, "url")) {
    const href = safeHref(l.href);
    if (!href) continue;
    if (l.start > at) out.push({ kind: "text", text: text.slice(at, l.start) });
    out.push({ kind: "link", text: text.slice(l.start, l.end), href });
    at = l.end;
  }
  if (at < text.length) out.push({ kind: "text", text: text.slice(at) });
  return out;
}
