// The admin console's and the account pages' REST calls, typed. Fields the
// server is adding in this release (by-day stats, email notifications,
// data export) are optional here and the screens hide what is absent.
import { http, type Page, type User } from "@/api/http";
import type { Appointment, Message, Status } from "@/api/types";
import type { Fee } from "@/util/fee";

export type Role = "patient" | "doctor" | "admin";

export interface AdminUser extends User {
  locale?: string;
  disabled?: boolean;
  created_at?: string;
  email_notifications?: boolean;
  deletion_requested_at?: string | null;
  anonymised_at?: string | null;
}

export interface AuditEntry {
  id: string;
  actor_id: string;
  actor_role: string;
  action: string;
  target_type: string;
  target_id: string;
  request_id: string;
  details: Record<string, unknown> | null;
  created_at: string;
}

export interface DayCount {
  date: string;
  total: number;
  by_status?: Partial<Record<Status, number>>;
}

export interface Stats {
  users: Record<string, number>;
  appointments: Record<string, number>;
  sockets_online: number;
  messages_today: number;
  appointments_by_day?: DayCount[];
  messages_by_day?: Array<{ date: string; count: number }>;
  /** Payments per day and currency, last 30 days (minor units). */
  payments_by_day?: PaymentDay[];
  payment_totals?: PaymentTotal[];
}

export interface PaymentTotal {
  currency: string;
  count: number;
  paid: number;
  refunded: number;
}

export interface PaymentDay extends PaymentTotal {
  date: string;
}

export interface SessionInfo {
  id: string;
  created_at: string;
  last_used_at: string;
  user_agent: string;
  ip: string;
  current: boolean;
}

export type Audience = "all" | "patients" | "doctors";

/** query builds "?a=1&b=2" from the set values only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? "?" + s : "";
}

export interface UserFilter {
  role?: string;
  q?: string;
  cursor?: string;
}

export interface AppointmentFilter {
  doctor_id?: string;
  patient_id?: string;
  status?: string;
  from?: string;
  to?: string;
  cursor?: string;
}

export interface AuditFilter {
  actor_id?: string;
  target_type?: string;
  target_id?: string;
  action?: string;
  from?: string;
  to?: string;
  cursor?: string;
}

export interface CreateUser {
  email: string;
  password: string;
  name: string;
  role: Role;
  time_zone?: string;
  specialty?: string;
  bio?: string;
}

export const adminApi = {
  users: (f: UserFilter, limit = 50) => http.get<Page<AdminUser>>("/admin/users" + query({ ...f, limit })),
  user: (id: string) => http.get<{ user: AdminUser }>(`/admin/users/${id}`),
  createUser: (u: CreateUser) => http.post<{ user: AdminUser }>("/admin/users", u),
  updateUser: (id: string, patch: Partial<{ name: string; disabled: boolean; specialty: string; bio: string; role: Role; fee: Fee }>) =>
    http.patch<{ user: AdminUser }>(`/admin/users/${id}`, patch),
  /** anonymise confirms a deletion the person asked for (409 when none was asked for). */
  anonymise: (id: string) => http.post<{ user: AdminUser }>(`/admin/users/${id}/anonymise`),
  sendReset: (id: string) => http.post<void>(`/admin/users/${id}/password-reset`),
  appointments: (f: AppointmentFilter, limit = 50) => http.get<Page<Appointment>>("/admin/appointments" + query({ ...f, limit })),
  appointment: (id: string) => http.get<Appointment>(`/appointments/${id}`),
  cancel: (id: string, reason: string) => http.post<Appointment>(`/appointments/${id}/cancel`, { reason }),
  /** messages reads a consultation as an admin: the reason is required and recorded in the audit log. */
  messages: (id: string, reason: string, before?: number) =>
    http.get<Page<Message>>(`/appointments/${id}/messages` + query({ reason, before_seq: before, limit: 200 })),
  audit: (f: AuditFilter, limit = 100) => http.get<Page<AuditEntry>>("/admin/audit-log" + query({ ...f, limit })),
  stats: () => http.get<Stats>("/admin/stats"),
  announce: (a: { title: string; body: string; audience: Audience }) => http.post<{ recipients: number }>("/admin/announcements", a),
};

export const accountApi = {
  me: () => http.get<{ user: AdminUser }>("/me"),
  update: (patch: Record<string, unknown>) => http.patch<{ user: AdminUser }>("/me", patch),
  sessions: () => http.get<{ items: SessionInfo[] }>("/me/sessions"),
  endSession: (id: string) => http.del<void>(`/me/sessions/${id}`),
  exportData: () => http.get<unknown>("/me/export"),
  requestDeletion: () => http.post<{ user: AdminUser } | undefined>("/me/deletion-request"),
  forgot: (email: string) => http.post<void>("/auth/password/forgot", { email }),
  reset: (token: string, password: string) => http.post<void>("/auth/password/reset", { token, password }),
};
