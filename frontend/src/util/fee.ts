// A doctor's consultation fee: the server keeps it in the currency's minor
// units (cents; none for JPY), the admin types it in major units ("45.00").
// The number of digits comes from Intl, so every ISO 4217 currency works.

/** Fee is a consultation fee as the server sends it; amount 0 is free. */
export interface Fee {
  amount: number;
  currency: string;
}

/** The currencies offered in the editor (a doctor's own is kept too). */
export const feeCurrencies = ["EUR", "USD", "GBP", "CHF", "CNY"];

/** currencyDigits is how many minor-unit digits a currency has (EUR 2, JPY 0). */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** toMajor writes minor units as the text of an input ("4500", EUR → "45.00"; "4500", JPY → "4500"). */
export function toMajor(amount: number, currency: string): string {
  const d = currencyDigits(currency);
  const neg = amount < 0;
  const s = String(Math.abs(Math.trunc(amount))).padStart(d + 1, "0");
  const out = d ? `${s.slice(0, s.length - d)}.${s.slice(s.length - d)}` : s;
  return neg ? "-" + out : out;
}

/**
 * toMinor reads what was typed ("45", "45.5", "45,50") as minor units, or
 * null when it is not a non-negative amount with at most the currency's
 * digits. Decimal arithmetic is done on the text, never in floating point.
 */
export function toMinor(text: string, currency: string): number | null {
  const d = currencyDigits(currency);
  const m = /^(\d+)(?:[.,](\d*))?$/.exec(text.trim());
  if (!m) return null;
  const frac = m[2] ?? "";
  if (frac.length > d) return null;
  const n = Number(m[1] + frac.padEnd(d, "0"));
  return Number.isSafeInteger(n) ? n : null;
}

/** formatFee says a fee in the reader's language: "€45.00", or null for free (the caller says "Free"). */
export function formatFee(fee: Fee, locale: string): string | null {
  if (!fee.amount) return null;
  const d = currencyDigits(fee.currency);
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency: fee.currency }).format(fee.amount / 10 ** d);
  } catch {
    return `${toMajor(fee.amount, fee.currency)} ${fee.currency}`;
  }
}
