import { describe, expect, it } from "vitest";
import { i18n } from "@/i18n";
import type { Payment } from "@/api/types";
import { countdown, formatMoney, leftMs, paymentState, statusLabel } from "./payment";

const t = (k: string, n?: Record<string, unknown>) => (i18n.global.t as (k: string, n?: Record<string, unknown>) => string)(k, n ?? {});

function pay(over: Partial<Payment>): Payment {
  return {
    id: "p1", appointment_id: "a1", provider: "stripe", provider_ref: "pi_1", status: "requires_payment", amount: 4500, currency: "EUR",
    expires_at: "2026-11-25T13:32:00Z", refunded_amount: 0, receipt_number: "TC-ABCDEF123456", created_at: "2026-11-25T13:17:00Z", ...over,
  };
}

describe("payment lines", () => {
  i18n.global.locale.value = "en";
  const line = (p: Partial<Payment>) => paymentState(t, pay(p), "en", "UTC");

  it("say where each payment stands, in words a patient reads", () => {
    expect(line({ status: "requires_payment" })).toBe("Awaiting payment of 45.00 EUR · held until 01:32 PM");
    expect(line({ status: "succeeded", paid_at: "2026-11-25T13:20:00Z" })).toBe("Paid 45.00 EUR · Receipt TC-ABCDEF123456");
    expect(line({ status: "failed" })).toBe("Payment failed — slot released");
    expect(line({ status: "expired" })).toBe("Not paid in time — slot released");
    expect(line({ status: "cancelled" })).toMatch(/nothing was charged/);
    expect(line({ status: "refund_pending" })).toBe("Refund pending (45.00 EUR)");
    expect(line({ status: "refunded", refunded_amount: 4500, refunded_at: "2026-11-25T15:00:00Z" })).toBe("Refunded 45.00 EUR on Nov 25");
  });

  it("say nothing for a booking without an online payment", () => {
    expect(paymentState(t, null, "en")).toBe("");
    expect(paymentState(t, undefined, "en")).toBe("");
  });

  it("write amounts from minor units with the currency's digits", () => {
    expect(formatMoney(4500, "EUR", "en")).toBe("45.00 EUR");
    expect(formatMoney(29, "EUR", "en")).toBe("0.29 EUR");
    expect(formatMoney(123456, "USD", "en")).toBe("1,234.56 USD");
    expect(formatMoney(4500, "JPY", "en")).toBe("4,500 JPY");
  });

  it("name every status in a word, in both languages", () => {
    expect(statusLabel(t, "succeeded")).toBe("Paid");
    expect(statusLabel(t, "refund_pending")).toBe("Refund pending");
    i18n.global.locale.value = "zh";
    expect(statusLabel(t, "refunded")).toBe("已退款");
    expect(paymentState(t, pay({ status: "expired" }), "zh-CN", "UTC")).toBe("未按时支付——时段已释放");
    i18n.global.locale.value = "en";
  });
});

describe("the hold's countdown", () => {
  it("counts minutes and seconds down to the end of the hold, and stops at zero", () => {
    const now = Date.parse("2026-11-25T13:17:55Z");
    expect(countdown(leftMs("2026-11-25T13:32:00Z", now))).toBe("14:05");
    expect(countdown(leftMs("2026-11-25T13:18:04Z", now))).toBe("0:09");
    expect(countdown(leftMs("2026-11-25T13:00:00Z", now))).toBe("0:00");
    expect(countdown(3723_000)).toBe("1:02:03");
    // A part of a second still left shows as a second, not as the end.
    expect(countdown(400)).toBe("0:01");
  });
});
