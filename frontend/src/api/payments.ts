// The payments' REST calls: the public configuration, a caller's payments
// (a patient's own, a doctor's for their appointments, all for an admin)
// and one payment (its receipt).
import { http, type Page } from "@/api/http";
import type { PaymentItem, PaymentsConfig } from "@/api/types";
import { query } from "@/api/admin";

export interface PaymentFilter {
  status?: string;
  limit?: number;
  cursor?: string;
}

export const paymentsApi = {
  config: () => http.get<PaymentsConfig>("/payments/config"),
  list: (f: PaymentFilter = {}) => http.get<Page<PaymentItem>>("/payments" + query({ status: f.status, limit: f.limit ?? 50, cursor: f.cursor })),
  get: (id: string) => http.get<PaymentItem>(`/payments/${encodeURIComponent(id)}`),
};
