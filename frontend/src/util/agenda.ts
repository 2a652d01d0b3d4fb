// The doctor's day: who is next, and who is late.
import type { Appointment } from "@/api/types";
import { minutesBetween } from "./time";

const active = (a: Appointment) => a.status === "booked" || a.status === "in_progress";

/** nextUp is the first consultation of the list still to happen or under way at now ("" for none). */
export function nextUp(items: Appointment[], now: number): string {
  return items.find((a) => active(a) && new Date(a.ends_at).getTime() > now)?.id ?? "";
}

/** lateBy is how many minutes a booked patient is past their start (0 when not late). */
export function lateBy(a: Appointment, now: number): number {
  return a.status === "booked" ? Math.max(0, minutesBetween(a.starts_at, new Date(now))) : 0;
}

/** canMarkNoShow: a booked consultation whose start has passed may be marked as not attended. */
export function canMarkNoShow(a: Appointment, now: number): boolean {
  return a.status === "booked" && new Date(a.starts_at).getTime() <= now;
}
