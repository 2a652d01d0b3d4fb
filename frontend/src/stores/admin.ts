// The admin console's shared state: the names of the people it has seen
// (so the audit log and consultation records say who, not which id), and
// the announcements sent from this browser tab (their full text; the
// history across browsers comes from the audit log, which keeps title,
// audience and recipients).
import { defineStore } from "pinia";
import { adminApi, type AdminUser, type Audience } from "@/api/admin";

export interface SentAnnouncement {
  title: string;
  body: string;
  audience: Audience;
  recipients: number;
  sent_at: string;
}

const sentKey = "admin:announcements";

function loadSent(): SentAnnouncement[] {
  try {
    return JSON.parse(sessionStorage.getItem(sentKey) ?? "[]") as SentAnnouncement[];
  } catch {
    return [];
  }
}

export const useAdmin = defineStore("admin", {
  state: () => ({ names: {} as Record<string, string>, emails: {} as Record<string, string>, sent: loadSent() }),
  actions: {
    learn(users: Array<Pick<AdminUser, "id" | "name"> & { email?: string }>) {
      for (const u of users) {
        if (u?.id && u.name) this.names[u.id] = u.name;
        if (u?.id && u.email) this.emails[u.id] = u.email;
      }
    },
    /** resolve looks up the names of ids not seen yet (one request each, at most 20 at a time). */
    async resolve(ids: string[]) {
      const missing = [...new Set(ids)].filter((id) => id && id !== "*" && !this.names[id]).slice(0, 20);
      await Promise.all(
        missing.map((id) =>
          adminApi
            .user(id)
            .then((r) => this.learn([r.user]))
            .catch(() => {}),
        ),
      );
    },
    remember(a: SentAnnouncement) {
      this.sent = [a, ...this.sent].slice(0, 50);
      try {
        sessionStorage.setItem(sentKey, JSON.stringify(this.sent));
      } catch {
        /* storage unavailable: kept in memory */
      }
    },
  },
});
