// The admin console's routes and the account pages (every role), kept
// apart from the patient's and the doctor's. Titles are full catalogue keys.
import type { RouteRecordRaw } from "vue-router";

export const accountRoutes: RouteRecordRaw[] = [
  { path: "/profile", name: "profile", component: () => import("@/views/ProfileView.vue"), meta: { title: "account.title" } },
  { path: "/payments", name: "payments", component: () => import("@/views/PaymentsView.vue"), meta: { title: "pay.list.title" } },
  { path: "/payments/:id", name: "receipt", component: () => import("@/views/ReceiptView.vue"), props: true, meta: { title: "pay.receipt.title" } },
  { path: "/forgot-password", name: "forgot-password", component: () => import("@/views/ForgotPasswordView.vue"), meta: { public: true, title: "reset.forgotTitle" } },
  { path: "/reset-password", name: "reset-password", component: () => import("@/views/ResetPasswordView.vue"), meta: { public: true, title: "reset.title" } },
];

export const adminRoutes: RouteRecordRaw[] = [
  { path: "/admin", name: "admin", component: () => import("@/views/admin/AdminDashboard.vue"), meta: { role: "admin", title: "admin.dash.title" } },
  { path: "/admin/users", name: "admin-users", component: () => import("@/views/admin/AdminUsers.vue"), meta: { role: "admin", title: "admin.users.title" } },
  { path: "/admin/appointments", name: "admin-appointments", component: () => import("@/views/admin/AdminAppointments.vue"), meta: { role: "admin", title: "admin.appts.title" } },
  { path: "/admin/appointments/:id/record", name: "admin-record", component: () => import("@/views/admin/AdminRecord.vue"), props: true, meta: { role: "admin", title: "admin.record.title" } },
  { path: "/admin/payments", name: "admin-payments", component: () => import("@/views/admin/AdminPayments.vue"), meta: { role: "admin", title: "admin.payments.title" } },
  { path: "/admin/audit", name: "admin-audit", component: () => import("@/views/admin/AdminAudit.vue"), meta: { role: "admin", title: "admin.audit.title" } },
  { path: "/admin/announcements", name: "admin-announcements", component: () => import("@/views/admin/AdminAnnouncements.vue"), meta: { role: "admin", title: "admin.ann.title" } },
];

/** Screens of patients and doctors, which an admin never sees (the console instead). */
export const clinicalRoutes = new Set(["doctors", "doctor", "appointments", "room", "schedule"]);
