import type { Slot } from "@/api/types";

export function userZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** dayKey is the calendar day of an instant in a zone (YYYY-MM-DD). */
export function dayKey(iso: string, zone = userZone()): string {
  const p = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(iso));
  return p;
}

/** groupByDay groups slots by the viewer's local day, in order. */
export function groupByDay(slots: Slot[], zone = userZone()): Array<{ day: string; slots: Slot[] }> {
  const out: Array<{ day: string; slots: Slot[] }> = [];
  for (const s of [...slots].sort((a, b) => a.starts_at.localeCompare(b.starts_at))) {
    const day = dayKey(s.starts_at, zone);
    const last = out[out.length - 1];
    if (last && last.day === day) last.slots.push(s);
    else out.push({ day, slots: [s] });
  }
  return out;
}

export function clock(iso: string, locale: string, zone = userZone()): string {
  return new Intl.DateTimeFormat(locale, { timeZone: zone, hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

export function dateTime(iso: string, locale: string, zone = userZone()): string {
  return new Intl.DateTimeFormat(locale, { timeZone: zone, dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

export function dayLabel(day: string, locale: string): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Intl.DateTimeFormat(locale, { weekday: "long", month: "short", day: "numeric", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** DayMark is a separator before the first message of each calendar day. */
export type DayMark = "today" | "yesterday" | string;

/**
 * dayMarks returns, for each item, the day to announce before it (its
 * YYYY-MM-DD, or "today"/"yesterday"), or "" when it is on the same day
 * as the item before it.
 */
export function dayMarks(times: string[], zone = userZone(), now = new Date()): DayMark[] {
  const today = dayKey(now.toISOString(), zone);
  const yesterday = dayKey(new Date(now.getTime() - 864e5).toISOString(), zone);
  let prev = "";
  return times.map((iso) => {
    const d = dayKey(iso, zone);
    if (d === prev) return "";
    prev = d;
    return d === today ? "today" : d === yesterday ? "yesterday" : d;
  });
}

/** minutesBetween is whole minutes from a to b (negative when b is earlier). */
export function minutesBetween(a: Date | string, b: Date | string): number {
  return Math.floor((new Date(b).getTime() - new Date(a).getTime()) / 60000);
}
