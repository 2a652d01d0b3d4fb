import { beforeEach, describe, expect, it, vi } from "vitest";
import { createPinia, setActivePinia } from "pinia";
import { http } from "@/api/http";
import type { Appointment, Notification } from "@/api/types";
import { usePayments } from "./payments";

const appt = (status: Appointment["status"], payStatus: string): Appointment =>
  ({
    id: "a1", doctor_id: "d1", patient_id: "p1", doctor: null, patient: null, starts_at: "2026-11-25T14:00:00Z", ends_at: "2026-11-25T14:30:00Z",
    status, reason: "", cancel_reason: "", diagnosis: null, last_seq: 0,
    payment: { id: "pay1", appointment_id: "a1", provider: "stripe", provider_ref: "pi_1", status: payStatus, amount: 4500, currency: "EUR", expires_at: "2026-11-25T13:32:00Z", refunded_amount: 0, receipt_number: "TC-1", created_at: "2026-11-25T13:17:00Z" },
  }) as Appointment;

const note = (kind: string): Notification => ({
  id: "n1", kind, title: "", body: "", read_at: null, created_at: "2026-11-25T13:20:00Z",
  data: { appointment_id: "a1", payment_id: "pay1", amount: 4500, currency: "EUR", status: "succeeded", receipt_number: "TC-1" },
});

describe("payments store", () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.restoreAllMocks();
  });

  it("moves an appointment from awaiting payment to booked when the payment is received", async () => {
    const s = usePayments();
    s.keep(appt("pending_payment", "requires_payment"));
    const get = vi.spyOn(http, "get").mockImplementation(async (path: string) => {
      if (path === "/appointments/a1") return appt("booked", "succeeded");
      if (path.startsWith("/payments?")) return { items: [{ ...appt("booked", "succeeded").payment }], next_cursor: null };
      throw new Error("unexpected " + path);
    });
    s.listed = true;
    await s.notified(note("payment_received"));
    expect(get).toHaveBeenCalledWith("/appointments/a1");
    expect(s.appointments.a1.status).toBe("booked");
    expect(s.appointments.a1.payment?.status).toBe("succeeded");
    expect(s.items[0].status).toBe("succeeded");
    expect(s.changed).toBe(1);
  });

  it("refreshes on refunds and failures too, and ignores other news", async () => {
    const s = usePayments();
    const get = vi.spyOn(http, "get").mockResolvedValue(appt("cancelled", "refund_pending"));
    await s.notified(note("diagnosis_ready"));
    expect(get).not.toHaveBeenCalled();
    await s.notified(note("payment_refunded"));
    expect(s.appointments.a1.payment?.status).toBe("refund_pending");
    await s.notified(note("payment_failed"));
    expect(get).toHaveBeenCalledTimes(2);
  });

  it("asks for the configuration once, and treats a failed ask as no online payments", async () => {
    const s = usePayments();
    const get = vi.spyOn(http, "get").mockRejectedValueOnce(new Error("down"));
    expect((await s.loadConfig()).provider).toBe("none");
    expect(s.online).toBe(false);
    get.mockResolvedValue({ provider: "stripe", publishable_key: "pk_test_1", hold_seconds: 900 });
    await Promise.all([s.loadConfig(), s.loadConfig()]);
    await s.loadConfig();
    expect(get).toHaveBeenCalledTimes(2);
    expect(s.online).toBe(true);
  });

  it("takes a live status change of an appointment on screen, keeping the secret a broadcast leaves out", () => {
    const s = usePayments();
    const held = appt("pending_payment", "requires_payment");
    held.payment!.client_secret = "pi_1_secret";
    s.keep(held);
    s.statusChanged(appt("pending_payment", "requires_payment"));
    expect(s.appointments.a1.payment?.client_secret).toBe("pi_1_secret");
    s.statusChanged(appt("booked", "succeeded"));
    expect(s.appointments.a1.status).toBe("booked");
    expect(s.appointments.a1.payment?.client_secret).toBeUndefined();
    // Appointments not on screen are not collected.
    s.statusChanged({ ...appt("booked", "succeeded"), id: "other" });
    expect(s.appointments.other).toBeUndefined();
  });
});
