// How a consultation record names its lines: by kind (a message without
// one is an attachment when it has one, else text), calls by their outcome
// and length, system lines by their event.

export interface CallInfo {
  media?: string;
  outcome?: string;
  duration_s?: number;
}

const outcomes = ["completed", "missed", "declined", "cancelled"];
const events = ["started", "completed", "cancelled"];

export function kindOf(m: { kind?: string; attachment?: unknown }): string {
  return m.kind || (m.attachment ? "attachment" : "text");
}

/** callParts is the catalogue key (under admin.record.call.) and its values for a call line. */
export function callParts(c: CallInfo | null | undefined): { key: string; video: boolean; duration: string } {
  const s = Math.max(0, Math.round(c?.duration_s ?? 0));
  const duration = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  return { key: c?.outcome && outcomes.includes(c.outcome) ? c.outcome : "other", video: c?.media === "video", duration };
}

/** systemKey is the catalogue key (under admin.record.system.) of a system line. */
export function systemKey(event: string | undefined): string {
  return event && events.includes(event) ? event : "other";
}
