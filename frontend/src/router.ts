import { createRouter, createWebHistory } from "vue-router";
import { useAuth } from "@/stores/auth";

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/", redirect: () => ({ name: "home" }) },
    { path: "/home", name: "home", redirect: () => (useAuth().role === "doctor" ? "/appointments" : "/doctors") },
    { path: "/login", name: "login", component: () => import("@/views/LoginView.vue"), meta: { public: true } },
    { path: "/register", name: "register", component: () => import("@/views/RegisterView.vue"), meta: { public: true } },
    { path: "/doctors", name: "doctors", component: () => import("@/views/DoctorsView.vue") },
    { path: "/doctors/:id", name: "doctor", component: () => import("@/views/DoctorView.vue"), props: true },
    { path: "/appointments", name: "appointments", component: () => import("@/views/AppointmentsView.vue") },
    { path: "/appointments/:id", name: "room", component: () => import("@/views/RoomView.vue"), props: true },
    { path: "/schedule", name: "schedule", component: () => import("@/views/ScheduleView.vue"), meta: { role: "doctor" } },
    { path: "/:pathMatch(.*)*", redirect: "/" },
  ],
});

router.beforeEach(async (to) => {
  const auth = useAuth();
  await auth.restore();
  if (!to.meta.public && !auth.signedIn) return { name: "login", query: { next: to.fullPath } };
  if ((to.name === "login" || to.name === "register") && auth.signedIn) return { name: "home" };
  if (to.meta.role && auth.role !== to.meta.role) return { name: "home" };
  return true;
});
