import { describe, expect, it } from "vitest";
import { currencyDigits, formatFee, toMajor, toMinor } from "./fee";

describe("fees", () => {
  it("knows each currency's digits from Intl", () => {
    expect(currencyDigits("EUR")).toBe(2);
    expect(currencyDigits("JPY")).toBe(0);
    expect(currencyDigits("KWD")).toBe(3);
  });

  it("turns major units into minor units with the currency's digits", () => {
    expect(toMinor("45.00", "EUR")).toBe(4500);
    expect(toMinor("45", "EUR")).toBe(4500);
    expect(toMinor("45.5", "EUR")).toBe(4550);
    expect(toMinor("0.29", "EUR")).toBe(29); // no floating point error (0.29 * 100 = 28.999…)
    expect(toMinor("45,50", "EUR")).toBe(4550);
    expect(toMinor("0", "EUR")).toBe(0);
    expect(toMinor("4500", "JPY")).toBe(4500);
    expect(toMinor("45.5", "JPY")).toBeNull();
    expect(toMinor("45.505", "EUR")).toBeNull();
    expect(toMinor("-1", "EUR")).toBeNull();
    expect(toMinor("", "EUR")).toBeNull();
    expect(toMinor("abc", "EUR")).toBeNull();
  });

  it("turns minor units into the major units shown in the input", () => {
    expect(toMajor(4500, "EUR")).toBe("45.00");
    expect(toMajor(5, "EUR")).toBe("0.05");
    expect(toMajor(0, "EUR")).toBe("0.00");
    expect(toMajor(4500, "JPY")).toBe("4500");
    expect(toMinor(toMajor(12345, "EUR"), "EUR")).toBe(12345);
  });

  it("formats a fee in the reader's language, and none for free", () => {
    expect(formatFee({ amount: 4500, currency: "EUR" }, "en")).toBe("€45.00");
    expect(formatFee({ amount: 4500, currency: "JPY" }, "en")).toBe("¥4,500");
    expect(formatFee({ amount: 0, currency: "EUR" }, "en")).toBeNull();
  });
});
