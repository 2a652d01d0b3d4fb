// The dashboard's numbers shaped for charts: the last N days in order with
// the days the server left out as zeros, appointments per status per day,
// and the no-show rate.
import type { DayCount, Stats } from "@/api/admin";
import { currencyDigits } from "@/util/fee";

export const statuses = ["booked", "in_progress", "completed", "cancelled", "no_show"] as const;

/** isoDay is a Date's UTC calendar day, YYYY-MM-DD. */
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** lastDays is the n days up to and including today (UTC), oldest first. */
export function lastDays(n: number, now = new Date()): string[] {
  const out: string[] = [];
  const base = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let i = n - 1; i >= 0; i--) out.push(isoDay(new Date(base - i * 86400_000)));
  return out;
}

export interface Series {
  labels: string[];
  datasets: Array<{ key: string; data: number[] }>;
}

/**
 * appointmentSeries spreads appointments_by_day over the days: one dataset
 * per status (stacked, they add up to the day's total). null when the
 * server does not send the field.
 */
export function appointmentSeries(s: Stats, days: string[]): Series | null {
  if (!Array.isArray(s.appointments_by_day)) return null;
  const byDate = new Map<string, DayCount>(s.appointments_by_day.map((d) => [d.date.slice(0, 10), d]));
  const datasets = statuses.map((st) => ({
    key: st,
    data: days.map((d) => {
      const day = byDate.get(d);
      if (!day) return 0;
      // A day without the split counts its total as booked.
      if (!day.by_status) return st === "booked" ? day.total ?? 0 : 0;
      return Number(day.by_status[st] ?? 0);
    }),
  }));
  return { labels: days, datasets };
}

/** messageSeries is messages per day, or null without messages_by_day. */
export function messageSeries(s: Stats, days: string[]): Series | null {
  if (!Array.isArray(s.messages_by_day)) return null;
  const byDate = new Map(s.messages_by_day.map((d) => [d.date.slice(0, 10), Number(d.count ?? 0)]));
  return { labels: days, datasets: [{ key: "messages", data: days.map((d) => byDate.get(d) ?? 0) }] };
}

/**
 * noShowRate is the share of consultations that were due and ended as
 * no-shows: no_show / (completed + no_show), over the last 30 days when
 * the by-day split is there, else over all time. null when nothing is due yet.
 */
export function noShowRate(s: Stats): { rate: number; window: "30d" | "all" } | null {
  let noShow = 0;
  let completed = 0;
  let window: "30d" | "all" = "all";
  if (Array.isArray(s.appointments_by_day) && s.appointments_by_day.some((d) => d.by_status)) {
    window = "30d";
    for (const d of s.appointments_by_day) {
      noShow += Number(d.by_status?.no_show ?? 0);
      completed += Number(d.by_status?.completed ?? 0);
    }
  } else {
    noShow = Number(s.appointments?.no_show ?? 0);
    completed = Number(s.appointments?.completed ?? 0);
  }
  const due = noShow + completed;
  return due ? { rate: noShow / due, window } : null;
}

/** total adds up a count map. */
export function total(m: Record<string, number> | undefined): number {
  return Object.values(m ?? {}).reduce((a, b) => a + Number(b || 0), 0);
}

/** PaymentSeries is one currency's money per day: paid and refunded, in major units (for the chart's axis only). */
export interface PaymentSeries {
  currency: string;
  paid: number[];
  refunded: number[];
}

/**
 * paymentSeries spreads payments_by_day over the days, one series per
 * currency (amounts of different currencies are never added up). Minor
 * units are divided only here, for drawing. null without the field.
 */
export function paymentSeries(s: Stats, days: string[]): PaymentSeries[] | null {
  if (!Array.isArray(s.payments_by_day)) return null;
  const currencies = [...new Set(s.payments_by_day.map((d) => d.currency))].sort();
  return currencies.map((currency) => {
    const scale = 10 ** currencyDigits(currency);
    const byDate = new Map(s.payments_by_day!.filter((d) => d.currency === currency).map((d) => [d.date.slice(0, 10), d]));
    return {
      currency,
      paid: days.map((d) => (byDate.get(d)?.paid ?? 0) / scale),
      refunded: days.map((d) => (byDate.get(d)?.refunded ?? 0) / scale),
    };
  });
}
