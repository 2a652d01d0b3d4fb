import { describe, expect, it } from "vitest";
import { mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { i18n } from "@/i18n";
import { usePayments } from "@/stores/payments";
import FeeTag from "./FeeTag.vue";

function tag(provider: string, amount: number) {
  const pinia = createPinia();
  setActivePinia(pinia);
  usePayments().config = { provider, publishable_key: "", hold_seconds: 900 };
  i18n.global.locale.value = "en";
  return mount(FeeTag, { props: { fee: { amount, currency: "EUR" } }, global: { plugins: [pinia, i18n] } }).text();
}

describe("the fee before booking", () => {
  it("says the fee is paid at the clinic when the clinic takes no online payments", () => {
    expect(tag("none", 4500)).toBe("Consultation fee: €45.00 · Pay at the clinic");
  });
  it("says it is paid online when bookings are paid with Stripe", () => {
    expect(tag("stripe", 4500)).toBe("Consultation fee: €45.00 · Paid online when you book");
  });
  it("says nothing about paying for a free consultation", () => {
    expect(tag("none", 0)).toBe("Free consultation");
  });
});
