// What a payment says to people: its amount ("45.00 EUR"), where it stands
// ("Paid 45.00 EUR · Receipt TC-…", "Refund pending", "Not paid in time —
// slot released") and how long a held slot stays held. Amounts are integer
// minor units; they are only divided for display.
import type { Payment, PaymentStatus } from "@/api/types";
import { currencyDigits, toMajor } from "@/util/fee";
import { clock, userZone } from "@/util/time";

type T = (key: string, named?: Record<string, unknown>) => string;

/** Every payment status, in the order of a payment's life. */
export const paymentStatuses: PaymentStatus[] = ["requires_payment", "succeeded", "failed", "expired", "cancelled", "refund_pending", "refunded"];

/** The notification kinds that say a payment moved. */
export const paymentKinds = ["payment_received", "payment_failed", "payment_refunded"];

/** formatMoney writes minor units with the currency's code: 4500 EUR → "45.00 EUR" (grouped in the reader's language). */
export function formatMoney(amount: number, currency: string, locale: string): string {
  const d = currencyDigits(currency);
  try {
    const n = new Intl.NumberFormat(locale, { minimumFractionDigits: d, maximumFractionDigits: d }).format(amount / 10 ** d);
    return `${n} ${currency}`;
  } catch {
    return `${toMajor(amount, currency)} ${currency}`;
  }
}

/** shortDate is a day such as "25 Nov" in the reader's language and zone. */
export function shortDate(iso: string, locale: string, zone = userZone()): string {
  return new Intl.DateTimeFormat(locale, { timeZone: zone, day: "numeric", month: "short" }).format(new Date(iso));
}

/**
 * paymentState is the one line that says where a payment stands, or ""
 * when there is no payment (a free booking, or one paid at the clinic).
 */
export function paymentState(t: T, p: Payment | null | undefined, locale: string, zone = userZone()): string {
  if (!p) return "";
  const amount = formatMoney(p.amount, p.currency, locale);
  switch (p.status) {
    case "requires_payment":
      return t("pay.state.requires_payment", { amount, time: clock(p.expires_at, locale, zone) });
    case "succeeded":
      return t("pay.state.succeeded", { amount, receipt: p.receipt_number });
    case "failed":
      return t("pay.state.failed");
    case "expired":
      return t("pay.state.expired");
    case "cancelled":
      return t("pay.state.cancelled");
    case "refund_pending":
      return t("pay.state.refund_pending", { amount });
    case "refunded":
      return p.refunded_at
        ? t("pay.state.refunded", { amount: formatMoney(p.refunded_amount || p.amount, p.currency, locale), date: shortDate(p.refunded_at, locale, zone) })
        : t("pay.state.refundedUndated", { amount: formatMoney(p.refunded_amount || p.amount, p.currency, locale) });
    default:
      return t("pay.state.unknown", { amount });
  }
}

/** statusLabel is a payment status in a word or two ("Paid", "Refunded"), for lists and filters. */
export function statusLabel(t: T, s: PaymentStatus | string): string {
  return paymentStatuses.includes(s as PaymentStatus) ? t("pay.status." + s) : s;
}

/** leftMs is how long is left until an instant (never negative). */
export function leftMs(until: string, now: number): number {
  return Math.max(0, new Date(until).getTime() - now);
}

/** countdown writes a duration as "14:05" (minutes and seconds), or "1:02:03" from an hour up. */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** refundOwed reports whether a payment was paid back or is being paid back. */
export function refundOwed(p: Payment | null | undefined): boolean {
  return p?.status === "refund_pending" || p?.status === "refunded";
}
