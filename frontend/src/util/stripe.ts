// Stripe.js, loaded only when a payment step is on screen. It comes from
// js.stripe.com: a blocked or unreachable script (no network, a content
// blocker) is an error within a few seconds, never a wait without end.
import type { Stripe } from "@stripe/stripe-js";

export type StripeLoader = (publishableKey: string) => Promise<Stripe>;

/** within rejects when p has not settled in ms. */
export function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out")), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** loadStripeJs loads Stripe.js for a publishable key (a failed load is tried afresh next time). */
export const loadStripeJs: StripeLoader = async (publishableKey) => {
  const { loadStripe } = await import("@stripe/stripe-js/pure");
  const stripe = await within(loadStripe(publishableKey), 15_000);
  if (!stripe) throw new Error("Stripe.js not available");
  return stripe;
};
