import { createRouter, createWebHistory } from "vue-router";
import { hadSession, useAuth } from "@/stores/auth";
import { i18n } from "@/i18n";
import { accountRoutes, adminRoutes, clinicalRoutes } from "@/routes-admin";
import { useUnread } from "@/stores/unread";

declare module "vue-router" {
  interface RouteMeta {
    public?: boolean;
    role?: string;
    /** title: the catalogue key (under title.) of the page's document title. */
    title?: string;
  }
}

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/", redirect: () => ({ name: "home" }) },
    { path: "/home", name: "home", redirect: () => (useAuth().role === "doctor" ? "/appointments" : "/doctors") },
    { path: "/login", name: "login", component: () => import("@/views/LoginView.vue"), meta: { public: true, title: "login" } },
    { path: "/register", name: "register", component: () => import("@/views/RegisterView.vue"), meta: { public: true, title: "register" } },
    { path: "/doctors", name: "doctors", component: () => import("@/views/DoctorsView.vue"), meta: { title: "doctors" } },
    { path: "/doctors/:id", name: "doctor", component: () => import("@/views/DoctorView.vue"), props: true, meta: { title: "doctor" } },
    { path: "/appointments", name: "appointments", component: () => import("@/views/AppointmentsView.vue"), meta: { title: "appointments" } },
    { path: "/appointments/:id", name: "room", component: () => import("@/views/AppointmentView.vue"), props: true, meta: { title: "room" } },
    { path: "/schedule", name: "schedule", component: () => import("@/views/ScheduleView.vue"), meta: { role: "doctor", title: "schedule" } },
    ...accountRoutes,
    ...adminRoutes,
    { path: "/:pathMatch(.*)*", redirect: "/" },
  ],
});

router.beforeEach(async (to) => {
  const auth = useAuth();
  await auth.restore();
  if (!to.meta.public && !auth.signedIn) return { name: "login", query: { next: to.fullPath, ...(hadSession() ? { expired: "1" } : {}) } };
  if ((to.name === "login" || to.name === "register") && auth.signedIn) return { name: "home" };
  if (to.meta.role && auth.role !== to.meta.role) return { name: "home" };
  if (auth.role === "admin" && clinicalRoutes.has(String(to.name))) return { name: "admin" };
  return true;
});

/** pageTitle is the document title of the current page in the UI language. */
export function pageTitle(): string {
  const t = i18n.global.t as (k: string) => string;
  const route = router.currentRoute.value;
  let key = route.meta.title;
  if (key === "appointments" && useAuth().role === "doctor") key = "agenda";
  const n = useUnread().total;
  const title = key ? `${t(key.includes(".") ? key : "title." + key)} · ${t("app.name")}` : t("app.name");
  return n > 0 ? `(${n}) ${title}` : title;
}

router.afterEach(() => {
  document.title = pageTitle();
});
