// The signed-in user. The access token lives only in memory; the refresh
// token lives in an HttpOnly cookie (set by the server, scoped to
// /api/v1/auth) that no script can read, so a page reload restores the
// session through POST /auth/refresh and an XSS bug cannot steal it.
// A server that is down (503 unavailable) never signs anyone out: the
// cookie stays, and the session is restored once the server answers.
import { defineStore } from "pinia";
import { http, type Session, type User } from "@/api/http";
import { i18n, setLocale } from "@/i18n";

/** Delays (ms) between background restores while the server is unavailable. */
export const restoreRetryMs = [2000, 5000, 10000, 30000];

let restoreTimer: ReturnType<typeof setTimeout> | null = null;

/** cancelRestoreRetry stops a pending background restore (sign-out, tests). */
export function cancelRestoreRetry() {
  if (restoreTimer) clearTimeout(restoreTimer);
  restoreTimer = null;
}

/** A session ended without the user signing out is one to explain on the sign-in page. */
const sessionFlag = "had_session";
function remember(on: boolean) {
  try {
    if (on) localStorage.setItem(sessionFlag, "1");
    else localStorage.removeItem(sessionFlag);
  } catch {
    /* storage unavailable */
  }
}
/** hadSession: this browser was signed in and did not sign out. */
export function hadSession(): boolean {
  try {
    return localStorage.getItem(sessionFlag) === "1";
  } catch {
    return false;
  }
}

export const useAuth = defineStore("auth", {
  // unavailable: the last attempt to restore the session got no verdict.
  // leaving: the user asked to sign out (so the end of the session is no surprise).
  state: () => ({ user: null as User | null, ready: false, unavailable: false, leaving: false }),
  getters: {
    signedIn: (s) => s.user !== null,
    role: (s) => s.user?.role ?? null,
  },
  actions: {
    apply(s: Session | null) {
      if (s) {
        this.leaving = false;
        remember(true);
        http.setToken(s.access_token);
        this.user = s.user;
      } else {
        http.setToken("");
        this.user = null;
      }
    },
    /**
     * restore brings back the session of a reload from the refresh cookie.
     * While the server is unavailable it stays not ready (the next
     * navigation asks again) and keeps trying in the background, so the
     * session comes back without signing in again.
     */
    async restore() {
      http.onSession = (s) => this.apply(s);
      if (!this.ready) {
        const outcome = await http.renew();
        this.unavailable = outcome === "unavailable";
        if (this.unavailable) this.retryRestore(0);
        else this.ready = true;
      }
      return this.signedIn;
    },
    retryRestore(attempt: number) {
      if (restoreTimer) return;
      const delay = restoreRetryMs[Math.min(attempt, restoreRetryMs.length - 1)];
      restoreTimer = setTimeout(async () => {
        restoreTimer = null;
        if (this.ready) return;
        const outcome = await http.renew();
        this.unavailable = outcome === "unavailable";
        if (this.unavailable) this.retryRestore(attempt + 1);
        else this.ready = true;
      }, delay);
    },
    async login(email: string, password: string) {
      const s = await http.post<Session>("/auth/login", { email, password });
      // At sign-in the app speaks the account's language.
      const lang = s.user?.locale;
      if ((lang === "en" || lang === "zh") && lang !== (i18n.global.locale as unknown as { value: string }).value) setLocale(lang);
      this.apply(s);
    },
    async register(name: string, email: string, password: string) {
      const time_zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      await http.post("/auth/register", { name, email, password, time_zone });
      await this.login(email, password);
    },
    async logout() {
      this.leaving = true;
      remember(false);
      try {
        await http.post("/auth/logout", {});
      } finally {
        this.apply(null);
      }
    },
  },
});
