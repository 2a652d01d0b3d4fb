// What the user typed and has not been delivered yet, kept in IndexedDB
// so that a reload, a crash or a closed tab loses nothing: the outbox of
// unsent messages per room (resent with the same client_msg_id, which the
// server stores once), and the draft in each room's composer.
// idb-keyval is the storage; where IndexedDB is unavailable (some private
// modes) everything still works for the life of the page, in memory.
import { createStore, del, get, set, type UseStore } from "idb-keyval";

/** KV is the little storage the outbox needs. */
export interface KV {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
}

/** memoryKV keeps values for the life of the page. */
export function memoryKV(): KV {
  const m = new Map<string, unknown>();
  return {
    get: async <T>(k: string) => m.get(k) as T | undefined,
    set: async (k, v) => void m.set(k, structuredClone(v)),
    del: async (k) => void m.delete(k),
  };
}

/** browserKV stores in IndexedDB, falling back to memory when it cannot. */
export function browserKV(): KV {
  const fallback = memoryKV();
  let store: UseStore | null = null;
  try {
    if (typeof indexedDB !== "undefined") store = createStore("teleconsult", "kv");
  } catch {
    store = null;
  }
  if (!store) return fallback;
  const s = store;
  return {
    get: <T>(k: string) => get<T>(k, s).catch(() => fallback.get<T>(k)),
    set: (k, v) => set(k, v, s).catch(() => fallback.set(k, v)),
    del: (k) => del(k, s).catch(() => fallback.del(k)),
  };
}

/** Queued is a message waiting to be delivered. */
export interface Queued {
  appointment_id: string;
  client_msg_id: string;
  sender_id: string;
  text: string;
  created_at: string;
}

/** Outbox holds one user's unsent messages and drafts, per room. */
export class Outbox {
  private chains = new Map<string, Promise<unknown>>();

  constructor(
    private kv: KV,
    private userId: string,
  ) {}

  private boxKey(room: string) {
    return `outbox:${this.userId}:${room}`;
  }
  private draftKey(room: string) {
    return `draft:${this.userId}:${room}`;
  }

  /** serial runs the updates of one key one after another, so none is lost in a burst. */
  private serial<T>(key: string, f: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(f, f);
    this.chains.set(key, next.catch(() => {}));
    return next;
  }

  /** list returns a room's unsent messages, oldest first. */
  async list(room: string): Promise<Queued[]> {
    return this.serial(this.boxKey(room), async () => (await this.kv.get<Queued[]>(this.boxKey(room))) ?? []);
  }

  /** put adds a message (once per client_msg_id). */
  put(q: Queued): Promise<void> {
    const k = this.boxKey(q.appointment_id);
    return this.serial(k, async () => {
      const list = (await this.kv.get<Queued[]>(k)) ?? [];
      if (list.some((x) => x.client_msg_id === q.client_msg_id)) return;
      await this.kv.set(k, [...list, { ...q }]);
    });
  }

  /** remove drops a delivered (or abandoned) message. */
  remove(room: string, clientMsgId: string): Promise<void> {
    const k = this.boxKey(room);
    return this.serial(k, async () => {
      const list = (await this.kv.get<Queued[]>(k)) ?? [];
      const rest = list.filter((x) => x.client_msg_id !== clientMsgId);
      if (rest.length === list.length) return;
      if (rest.length) await this.kv.set(k, rest);
      else await this.kv.del(k);
    });
  }

  /** draft is the text left in a room's composer ("" when none). */
  async draft(room: string): Promise<string> {
    return (await this.kv.get<string>(this.draftKey(room))) ?? "";
  }

  /** saveDraft keeps the composer's text; an empty text clears it. */
  saveDraft(room: string, text: string): Promise<void> {
    const k = this.draftKey(room);
    return this.serial(k, () => (text ? this.kv.set(k, text) : this.kv.del(k)));
  }
}

let shared: KV | null = null;

/** outboxFor returns the outbox of a user, stored in this browser. */
export function outboxFor(userId: string, kv?: KV): Outbox {
  shared ??= kv ?? browserKV();
  return new Outbox(kv ?? shared, userId);
}
