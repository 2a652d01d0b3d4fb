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

/**
 * Journal is a small synchronous store (localStorage). An IndexedDB write
 * only lands a moment later, and a reload in that moment aborts it; so a
 * new message is written here first, synchronously, before the send
 * handler returns, and kept until IndexedDB has it or the server acked it.
 */
export interface Journal {
  get(key: string): string | null;
  set(key: string, value: string): void;
  del(key: string): void;
}

/** memoryJournal keeps the journal for the life of the page. */
export function memoryJournal(): Journal {
  const m = new Map<string, string>();
  return { get: (k) => m.get(k) ?? null, set: (k, v) => void m.set(k, v), del: (k) => void m.delete(k) };
}

/** browserJournal is localStorage (kept across a reload, a crash, a closed tab), or memory without it. */
export function browserJournal(): Journal {
  const fallback = memoryJournal();
  let ls: Storage | null = null;
  try {
    ls = typeof localStorage !== "undefined" ? localStorage : null;
  } catch {
    ls = null;
  }
  if (!ls) return fallback;
  const s = ls;
  return {
    get: (k) => {
      try {
        return s.getItem(k) ?? fallback.get(k);
      } catch {
        return fallback.get(k);
      }
    },
    set: (k, v) => {
      try {
        s.setItem(k, v);
      } catch {
        fallback.set(k, v); // full or refused: IndexedDB still gets it a moment later
      }
    },
    del: (k) => {
      try {
        s.removeItem(k);
      } catch {
        /* nothing to do */
      }
      fallback.del(k);
    },
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
    private journal: Journal = memoryJournal(),
  ) {}

  private journalKey(room: string) {
    return `outbox-journal:${this.userId}:${room}`;
  }
  private journaled(room: string): Queued[] {
    try {
      const v = JSON.parse(this.journal.get(this.journalKey(room)) ?? "[]");
      return Array.isArray(v) ? (v as Queued[]) : [];
    } catch {
      return [];
    }
  }
  private setJournal(room: string, list: Queued[]) {
    if (list.length) this.journal.set(this.journalKey(room), JSON.stringify(list));
    else this.journal.del(this.journalKey(room));
  }
  private unjournal(room: string, clientMsgId: string) {
    const list = this.journaled(room);
    const rest = list.filter((x) => x.client_msg_id !== clientMsgId);
    if (rest.length !== list.length) this.setJournal(room, rest);
  }

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

  /**
   * list returns a room's unsent messages, oldest first: those in IndexedDB,
   * then those only the journal has (the newest: a previous page went away
   * before their IndexedDB write landed).
   */
  async list(room: string): Promise<Queued[]> {
    return this.serial(this.boxKey(room), async () => {
      const stored = (await this.kv.get<Queued[]>(this.boxKey(room))) ?? [];
      const extra = this.journaled(room).filter((j) => !stored.some((x) => x.client_msg_id === j.client_msg_id));
      return [...stored, ...extra];
    });
  }

  /**
   * put adds a message (once per client_msg_id). It is in the journal when
   * put returns (synchronously), and in IndexedDB when its promise settles.
   */
  put(q: Queued): Promise<void> {
    const room = q.appointment_id;
    const k = this.boxKey(room);
    const journal = this.journaled(room);
    if (!journal.some((x) => x.client_msg_id === q.client_msg_id)) this.setJournal(room, [...journal, { ...q }]);
    return this.serial(k, async () => {
      const list = (await this.kv.get<Queued[]>(k)) ?? [];
      if (!list.some((x) => x.client_msg_id === q.client_msg_id)) await this.kv.set(k, [...list, { ...q }]);
      this.unjournal(room, q.client_msg_id);
    });
  }

  /** remove drops a delivered (or abandoned) message. */
  remove(room: string, clientMsgId: string): Promise<void> {
    const k = this.boxKey(room);
    this.unjournal(room, clientMsgId);
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
let sharedJournal: Journal | null = null;

/** outboxFor returns the outbox of a user, stored in this browser. */
export function outboxFor(userId: string, kv?: KV): Outbox {
  shared ??= kv ?? browserKV();
  sharedJournal ??= browserJournal();
  return new Outbox(kv ?? shared, userId, kv ? memoryJournal() : sharedJournal);
}
