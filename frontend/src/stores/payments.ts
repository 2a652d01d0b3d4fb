// Online payments as the screens see them: the clinic's configuration
// (asked once), the appointments whose payment is on screen, and the
// caller's payments. A payment notification (received, failed, refunded)
// refreshes the appointment it is about and the list, so that a screen
// moves from "Awaiting payment" to "Confirmed" without a reload.
import { defineStore } from "pinia";
import { http } from "@/api/http";
import { paymentsApi } from "@/api/payments";
import type { Appointment, Notification, PaymentItem, PaymentsConfig } from "@/api/types";
import { paymentKinds } from "@/util/payment";

const noPayments: PaymentsConfig = { provider: "none", publishable_key: "", hold_seconds: 0 };

let configLoad: Promise<PaymentsConfig> | null = null;

export const usePayments = defineStore("payments", {
  state: () => ({
    config: null as PaymentsConfig | null,
    appointments: {} as Record<string, Appointment>,
    items: [] as PaymentItem[],
    next: null as string | null,
    status: "",
    listed: false,
    /** changed counts the payment notifications handled (screens may watch it). */
    changed: 0,
  }),
  getters: {
    online: (s) => s.config?.provider === "stripe",
  },
  actions: {
    /** loadConfig asks the server once; a failed ask is tried again next time (and meanwhile nothing is paid online). */
    loadConfig(): Promise<PaymentsConfig> {
      if (this.config) return Promise.resolve(this.config);
      configLoad ??= paymentsApi
        .config()
        .then((c) => (this.config = { ...noPayments, ...c }))
        .catch(() => noPayments)
        .finally(() => (configLoad = null));
      return configLoad;
    },
    /** keep stores an appointment as a server answered it. */
    keep(a: Appointment) {
      this.appointments[a.id] = a;
    },
    /**
     * statusChanged takes a live consultation:status of an appointment on
     * screen. A broadcast never carries the client secret: the one already
     * held is kept while the same payment is still to be paid.
     */
    statusChanged(a: Appointment | null | undefined) {
      const before = a?.id ? this.appointments[a.id] : undefined;
      if (!a || !before) return;
      const secret = before.payment?.client_secret;
      const same = a.payment && before.payment && a.payment.id === before.payment.id && a.payment.status === "requires_payment";
      this.keep(same && secret && !a.payment!.client_secret ? { ...a, payment: { ...a.payment!, client_secret: secret } } : a);
    },
    async fetchAppointment(id: string): Promise<Appointment> {
      const a = await http.get<Appointment>(`/appointments/${encodeURIComponent(id)}`);
      this.keep(a);
      return a;
    },
    async loadList(status?: string, more = false) {
      if (status !== undefined) this.status = status;
      const page = await paymentsApi.list({ status: this.status, cursor: more ? (this.next ?? undefined) : undefined });
      this.items = more ? [...this.items, ...page.items] : page.items;
      this.next = page.next_cursor;
      this.listed = true;
    },
    /** notified handles a live notification: a payment's news refreshes what shows it. */
    async notified(n: Notification) {
      if (!paymentKinds.includes(n.kind)) return;
      const id = n.data?.appointment_id;
      const jobs: Promise<unknown>[] = [];
      if (typeof id === "string" && id) jobs.push(this.fetchAppointment(id));
      if (this.listed) jobs.push(this.loadList());
      await Promise.allSettled(jobs);
      this.changed++;
    },
    reset() {
      this.appointments = {};
      this.items = [];
      this.next = null;
      this.listed = false;
    },
  },
});
