// The messages of consultation rooms: stored messages ordered by seq and
// deduplicated, and the user's own messages shown at once while they wait
// for the server (and resent with the same client_msg_id until acked).
import { defineStore } from "pinia";
import type { Message } from "@/api/types";
import type { Hold } from "@/realtime/sender";

export interface ChatLine extends Message {
  pending?: boolean;
  failed?: boolean;
  /** hold: why a pending line is still waiting (none: being sent now). */
  hold?: Hold;
}

interface Room {
  messages: ChatLine[];
  oldestSeq: number;
  hasMore: boolean;
  reads: Record<string, number>;
  typing: Record<string, number>;
}

export function newClientMsgId(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : Math.random().toString(36).slice(2) + Date.now().toString(36);
}

/** merge adds messages to a list: one line per id or client_msg_id, ordered by seq (pending last). */
export function merge(list: ChatLine[], incoming: ChatLine[]): ChatLine[] {
  const out = [...list];
  for (const m of incoming) {
    const i = out.findIndex(
      (x) => (m.id && x.id === m.id) || (x.client_msg_id === m.client_msg_id && x.sender_id === m.sender_id),
    );
    if (i >= 0) {
      if (!m.pending) out[i] = { ...out[i], ...m, pending: false, failed: false, hold: undefined };
    } else {
      out.push(m);
    }
  }
  return out.sort((a, b) => {
    if (!!a.pending !== !!b.pending) return a.pending ? 1 : -1;
    return a.seq - b.seq;
  });
}

/** lastSeq is the highest stored seq in a list. */
export function lastSeq(list: ChatLine[]): number {
  return list.reduce((n, m) => (m.pending ? n : Math.max(n, m.seq)), 0);
}

/** gap reports whether seqs are missing between the stored messages. */
export function gap(list: ChatLine[]): boolean {
  const seqs = list.filter((m) => !m.pending).map((m) => m.seq);
  for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1] + 1) return true;
  return false;
}

export const useChat = defineStore("chat", {
  state: () => ({ rooms: {} as Record<string, Room> }),
  actions: {
    room(id: string): Room {
      if (!this.rooms[id]) this.rooms[id] = { messages: [], oldestSeq: 0, hasMore: true, reads: {}, typing: {} };
      return this.rooms[id];
    },
    add(id: string, msgs: ChatLine[]) {
      const r = this.room(id);
      r.messages = merge(r.messages, msgs);
      const stored = r.messages.filter((m) => !m.pending);
      r.oldestSeq = stored.length ? stored[0].seq : 0;
    },
    addOlder(id: string, msgs: ChatLine[], hasMore: boolean) {
      this.add(id, msgs);
      this.room(id).hasMore = hasMore;
    },
    pending(id: string, senderId: string, text: string, clientMsgId = newClientMsgId(), createdAt = new Date().toISOString()): ChatLine {
      const line: ChatLine = {
        id: "",
        appointment_id: id,
        seq: Number.MAX_SAFE_INTEGER,
        sender_id: senderId,
        text,
        attachment: null,
        client_msg_id: clientMsgId,
        created_at: createdAt,
        pending: true,
      };
      this.add(id, [line]);
      return line;
    },
    held(id: string, clientMsgId: string, hold: Hold) {
      const r = this.room(id);
      r.messages = r.messages.map((m) =>
        m.client_msg_id === clientMsgId && m.pending ? { ...m, hold, failed: hold.kind === "refused" } : m,
      );
    },
    failed(id: string, clientMsgId: string) {
      const r = this.room(id);
      r.messages = r.messages.map((m) => (m.client_msg_id === clientMsgId && m.pending ? { ...m, failed: true } : m));
    },
    unsent(id: string): ChatLine[] {
      return this.room(id).messages.filter((m) => m.pending);
    },
    setRead(id: string, userId: string, seq: number) {
      const r = this.room(id);
      r.reads[userId] = Math.max(r.reads[userId] ?? 0, seq);
    },
    setTyping(id: string, userId: string, typing: boolean) {
      const r = this.room(id);
      if (typing) r.typing[userId] = Date.now();
      else delete r.typing[userId];
    },
  },
});
