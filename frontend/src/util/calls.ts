// Words for calls and consultation steps as the chat and the lists show
// them: "Missed video call", "Video call · 3:05", "Consultation started".
import type { CallRecord, LastMessage, SystemRecord } from "@/api/types";

type T = (key: string, params?: Record<string, unknown>) => string;

/** clockSpan is a call's length: "0:42", "3:05", "1:02:03". */
export function clockSpan(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

const outcomes = new Set(["completed", "missed", "declined", "cancelled"]);

/** callKey is the catalogue key of a call line: calls.<outcome>.<media>. */
export function callKey(c: Pick<CallRecord, "media" | "outcome">): string {
  const media = c.media === "audio" ? "audio" : "video";
  const outcome = outcomes.has(c.outcome) ? c.outcome : "other";
  return `calls.${outcome}.${media}`;
}

/** callText says how a call ended, in words. */
export function callText(t: T, c: CallRecord): string {
  return t(callKey(c), { duration: clockSpan(c.duration_s) });
}

/** systemText is a consultation step as a timeline note. */
export function systemText(t: T, s: SystemRecord | null | undefined): string {
  const e = s?.event;
  return t(e === "started" || e === "completed" || e === "cancelled" ? `calls.system.${e}` : "calls.system.other");
}

/** previewText is a room's newest message in one line, for lists and toasts. */
export function previewText(t: T, m: LastMessage | null | undefined): string {
  if (!m) return "";
  switch (m.kind) {
    case "call":
      return t("calls.preview.call");
    case "system":
      return t("calls.preview.system");
    case "attachment":
      return t("calls.preview.attachment", { name: m.text });
    default: {
      const line = (m.text ?? "").replace(/\s+/g, " ").trim();
      return [...line].length > 80 ? [...line].slice(0, 79).join("") + "…" : line;
    }
  }
}
