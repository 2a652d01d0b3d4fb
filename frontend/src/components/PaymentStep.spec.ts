import { beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import type { Stripe } from "@stripe/stripe-js";
import { i18n } from "@/i18n";
import type { Appointment } from "@/api/types";
import { usePayments } from "@/stores/payments";
import { clock } from "@/util/time";
import PaymentStep from "./PaymentStep.vue";

const expires = new Date(Date.now() + 14 * 60_000).toISOString();
const pending = {
  id: "a1", doctor_id: "d1", patient_id: "p1", doctor: null, patient: null, starts_at: expires, ends_at: expires,
  status: "pending_payment", reason: "", cancel_reason: "", diagnosis: null, last_seq: 0,
  payment: { id: "pay1", appointment_id: "a1", provider: "stripe", provider_ref: "pi_1", status: "requires_payment", amount: 4500, currency: "EUR", client_secret: "pi_1_secret_x", expires_at: expires, refunded_amount: 0, receipt_number: "TC-1", created_at: expires },
} as Appointment;

function setup(config: { provider: string; publishable_key: string }) {
  const pinia = createPinia();
  setActivePinia(pinia);
  usePayments().config = { hold_seconds: 900, ...config };
  return pinia;
}

describe("the payment step", () => {
  beforeEach(() => {
    i18n.global.locale.value = "en";
  });

  it("shows the amount, that it awaits payment, and until when the slot is held", async () => {
    const pinia = setup({ provider: "stripe", publishable_key: "pk_test_1" });
    const loader = vi.fn().mockRejectedValue(new Error("Failed to load Stripe.js"));
    const w = mount(PaymentStep, { props: { appointment: pending, loader }, global: { plugins: [pinia, i18n], stubs: { RouterLink: true } } });
    await flushPromises();
    expect(w.get("[data-testid=pay-amount]").text()).toBe("45.00 EUR");
    expect(w.get("[data-testid=status-badge]").text()).toBe("Awaiting payment");
    expect(w.get("[data-testid=held-until]").text()).toContain(`Your slot is held until ${clock(expires, "en")}`);
    expect(w.get("[data-testid=countdown]").text()).toMatch(/\(1[34]:\d\d left\)/);
  });

  it("says clearly when Stripe.js cannot load, and tries again on Retry", async () => {
    const pinia = setup({ provider: "stripe", publishable_key: "pk_test_1" });
    const loader = vi.fn().mockRejectedValue(new Error("Failed to load Stripe.js"));
    const w = mount(PaymentStep, { props: { appointment: pending, loader }, global: { plugins: [pinia, i18n] } });
    await flushPromises();
    expect(loader).toHaveBeenCalledWith("pk_test_1");
    const msg = w.get("[data-testid=pay-unavailable]").text();
    expect(msg).toContain("Online payment isn't available in this browser right now");
    expect(msg).toContain(clock(expires, "en"));
    expect(w.find("[data-testid=pay-loading]").exists()).toBe(false);
    expect(w.find("[data-testid=pay]").exists()).toBe(false);
    await w.get("[data-testid=pay-retry]").trigger("click");
    await flushPromises();
    expect(loader).toHaveBeenCalledTimes(2);
  });

  it("says the same without a publishable key, without loading Stripe.js", async () => {
    const pinia = setup({ provider: "stripe", publishable_key: "" });
    const loader = vi.fn();
    const w = mount(PaymentStep, { props: { appointment: pending, loader }, global: { plugins: [pinia, i18n] } });
    await flushPromises();
    expect(loader).not.toHaveBeenCalled();
    expect(w.get("[data-testid=pay-unavailable]").text()).toContain("Online payment isn't available");
  });

  it("mounts the Payment Element with the client secret, and pays without leaving the page", async () => {
    const pinia = setup({ provider: "stripe", publishable_key: "pk_test_1" });
    const element = { on: vi.fn(), mount: vi.fn() };
    const elements = { create: vi.fn(() => element) };
    const confirmPayment = vi.fn().mockResolvedValue({ paymentIntent: { status: "succeeded" } });
    const stripe = { elements: vi.fn(() => elements), confirmPayment } as unknown as Stripe;
    const w = mount(PaymentStep, { props: { appointment: pending, loader: async () => stripe }, global: { plugins: [pinia, i18n] } });
    await flushPromises();
    expect((stripe.elements as ReturnType<typeof vi.fn>).mock.calls[0][0]).toMatchObject({ clientSecret: "pi_1_secret_x" });
    expect(elements.create).toHaveBeenCalledWith("payment");
    expect(element.mount).toHaveBeenCalled();
    await w.get("[data-testid=pay]").trigger("click");
    await flushPromises();
    expect(confirmPayment.mock.calls[0][0]).toMatchObject({ redirect: "if_required", confirmParams: { return_url: expect.stringMatching(/\/appointments\/a1$/) } });
    expect(w.get("[data-testid=pay-confirming]").text()).toContain("Payment received");
    expect(w.emitted("paid")).toHaveLength(1);
  });
});
