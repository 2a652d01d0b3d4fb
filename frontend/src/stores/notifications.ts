import { defineStore } from "pinia";
import { http, type Page } from "@/api/http";
import type { Notification } from "@/api/types";

export const useNotifications = defineStore("notifications", {
  state: () => ({ items: [] as Notification[], unread: 0, loaded: false }),
  actions: {
    async load() {
      const [page, count] = await Promise.all([
        http.get<Page<Notification>>("/notifications?limit=20"),
        http.get<{ count: number }>("/notifications/unread-count"),
      ]);
      this.items = page.items;
      this.unread = count.count;
      this.loaded = true;
    },
    /** received is a live push: stored already, so just show it. */
    received(n: Notification) {
      if (this.items.some((x) => x.id === n.id)) return;
      this.items = [n, ...this.items].slice(0, 50);
      if (!n.read_at) this.unread++;
    },
    async markRead(id: string) {
      const n = this.items.find((x) => x.id === id);
      if (!n || n.read_at) return;
      await http.post(`/notifications/${id}/read`);
      n.read_at = new Date().toISOString();
      this.unread = Math.max(0, this.unread - 1);
    },
    async markAllRead() {
      await http.post("/notifications/read-all");
      const now = new Date().toISOString();
      this.items.forEach((n) => (n.read_at ??= now));
      this.unread = 0;
    },
  },
});
