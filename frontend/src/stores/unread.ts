// Unread messages per consultation room, for the badges on the lists, the
// navigation and the page title. Counts come from the server (the
// appointment list's unread_count, then chat:unread pushes); a message
// that reaches a room this screen has joined but does not show (a call
// kept it joined) adds one until the server says otherwise.
import { defineStore } from "pinia";
import type { Appointment, LastMessage, Message, Unread } from "@/api/types";

export interface RoomUnread {
  count: number;
  last: LastMessage | null;
}

export type UnreadMap = Record<string, RoomUnread>;

/** seed takes the counts of an appointment list. */
export function seed(m: UnreadMap, items: Appointment[]): UnreadMap {
  const out = { ...m };
  for (const a of items) {
    if (typeof a.unread_count !== "number") continue;
    out[a.id] = { count: a.unread_count, last: a.last_message ?? out[a.id]?.last ?? null };
  }
  return out;
}

/**
 * apply takes a chat:unread push. arrived says whether it brought a new
 * message from someone else (rather than a read marker moving).
 */
export function apply(m: UnreadMap, u: Unread, me: string): { map: UnreadMap; arrived: boolean } {
  const before = m[u.appointment_id];
  const last = u.last_message ?? before?.last ?? null;
  const newer = !!u.last_message && u.last_message.seq > (before?.last?.seq ?? 0);
  const arrived = newer && u.unread_count > (before?.count ?? 0) && u.last_message!.sender_id !== me;
  return { map: { ...m, [u.appointment_id]: { count: Math.max(0, u.unread_count), last } }, arrived };
}

/** bump counts a live message in a room that is joined but not on screen. */
export function bump(m: UnreadMap, msg: Message, me: string): { map: UnreadMap; arrived: boolean } {
  const before = m[msg.appointment_id];
  if (msg.sender_id === me || msg.seq <= (before?.last?.seq ?? 0)) return { map: m, arrived: false };
  const last: LastMessage = { seq: msg.seq, kind: msg.kind, sender_id: msg.sender_id, text: msg.text, created_at: msg.created_at };
  return { map: { ...m, [msg.appointment_id]: { count: (before?.count ?? 0) + 1, last } }, arrived: true };
}

/** read clears a room up to what is on screen. */
export function read(m: UnreadMap, id: string): UnreadMap {
  const before = m[id];
  if (!before || before.count === 0) return m;
  return { ...m, [id]: { count: 0, last: before.last } };
}

export function total(m: UnreadMap): number {
  return Object.values(m).reduce((n, r) => n + (r.count > 0 ? r.count : 0), 0);
}

export interface Toast {
  id: number;
  appointment_id: string;
  name: string;
  last: LastMessage;
}

let toastSeq = 0;

export const useUnread = defineStore("unread", {
  state: () => ({
    rooms: {} as UnreadMap,
    /** names: the other party of each room, for toasts. */
    names: {} as Record<string, string>,
    toasts: [] as Toast[],
  }),
  getters: {
    total: (s) => total(s.rooms),
  },
  actions: {
    seed(items: Appointment[], me: string) {
      this.rooms = seed(this.rooms, items);
      for (const a of items) this.names[a.id] = (a.doctor_id === me ? a.patient?.name : a.doctor?.name) ?? this.names[a.id] ?? "";
    },
    count(id: string): number {
      return this.rooms[id]?.count ?? 0;
    },
    /** pushed applies chat:unread; true when a new message came from someone else. */
    pushed(u: Unread, me: string): boolean {
      const r = apply(this.rooms, u, me);
      this.rooms = r.map;
      return r.arrived;
    },
    live(msg: Message, me: string): boolean {
      const r = bump(this.rooms, msg, me);
      this.rooms = r.map;
      return r.arrived;
    },
    read(id: string) {
      this.rooms = read(this.rooms, id);
      this.toasts = this.toasts.filter((t) => t.appointment_id !== id);
    },
    toast(id: string, last: LastMessage) {
      const t: Toast = { id: ++toastSeq, appointment_id: id, name: this.names[id] ?? "", last };
      this.toasts = [...this.toasts.filter((x) => x.appointment_id !== id), t].slice(-3);
      setTimeout(() => this.dismiss(t.id), 8000);
      return t;
    },
    dismiss(id: number) {
      this.toasts = this.toasts.filter((t) => t.id !== id);
    },
    reset() {
      this.rooms = {};
      this.toasts = [];
    },
  },
});
