// The signed-in user. The access token lives only in memory; the refresh
// token lives in an HttpOnly cookie (set by the server, scoped to
// /api/v1/auth) that no script can read, so a page reload restores the
// session through POST /auth/refresh and an XSS bug cannot steal it.
import { defineStore } from "pinia";
import { http, type Session, type User } from "@/api/http";

export const useAuth = defineStore("auth", {
  state: () => ({ user: null as User | null, ready: false }),
  getters: {
    signedIn: (s) => s.user !== null,
    role: (s) => s.user?.role ?? null,
  },
  actions: {
    apply(s: Session | null) {
      if (s) {
        http.setToken(s.access_token);
        this.user = s.user;
      } else {
        http.setToken("");
        this.user = null;
      }
    },
    /** restore brings back the session of a reload from the refresh cookie. */
    async restore() {
      http.onSession = (s) => this.apply(s);
      if (!this.ready) {
        await http.refresh();
        this.ready = true;
      }
      return this.signedIn;
    },
    async login(email: string, password: string) {
      const s = await http.post<Session>("/auth/login", { email, password });
      this.apply(s);
    },
    async register(name: string, email: string, password: string) {
      const time_zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      await http.post("/auth/register", { name, email, password, time_zone });
      await this.login(email, password);
    },
    async logout() {
      try {
        await http.post("/auth/logout", {});
      } finally {
        this.apply(null);
      }
    },
  },
});
