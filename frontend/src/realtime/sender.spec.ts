import { afterEach, describe, expect, it, vi } from "vitest";
import { Sender, retryHint, type Hold } from "./sender";
import { Outbox, memoryJournal, memoryKV, type KV, type Queued } from "@/stores/outbox";
import type { Ack } from "@/api/types";

const q = (n: number): Queued => ({ appointment_id: "a", client_msg_id: "c" + n, sender_id: "u", text: "m" + n, created_at: "" });
const stored = (p: { client_msg_id: string; text: string }, seq: number) => ({ ok: true, message: { id: "id" + seq, seq, ...p } });

function setup(answer: (p: { client_msg_id: string; text: string }, n: number) => Ack) {
  const kv = memoryKV();
  const outbox = new Outbox(kv, "u");
  const sent: string[] = [];
  const held: Array<[string, Hold]> = [];
  let calls = 0;
  const request = vi.fn(async (_ev: string, p: object) => answer(p as { client_msg_id: string; text: string }, ++calls));
  const make = () => new Sender("a", outbox, { request, sent: (m) => sent.push(m.client_msg_id), held: (c, w) => held.push([c, w]) });
  return { kv, outbox, sent, held, request, make };
}

afterEach(() => vi.useRealTimers());

describe("outbox", () => {
  it("keeps every message of a burst, and drafts per room", async () => {
    const box = new Outbox(memoryKV(), "u");
    await Promise.all(Array.from({ length: 70 }, (_, i) => box.put(q(i))));
    expect((await box.list("a")).map((x) => x.text)).toEqual(Array.from({ length: 70 }, (_, i) => "m" + i));
    await box.put(q(3)); // the same client_msg_id again changes nothing
    expect(await box.list("a")).toHaveLength(70);
    await Promise.all(Array.from({ length: 70 }, (_, i) => box.remove("a", "c" + i)));
    expect(await box.list("a")).toEqual([]);
    await box.saveDraft("a", "half a thought");
    expect(await box.draft("a")).toBe("half a thought");
    expect(await box.draft("b")).toBe("");
    await box.saveDraft("a", "");
    expect(await box.draft("a")).toBe("");
  });
});

describe("outbox across a reload", () => {
  // IndexedDB as a reload leaves it: every write still in flight when the
  // page goes away is lost, only those that landed before remain.
  function reloadableKV() {
    const landed = memoryKV();
    let open = true;
    const kv: KV = {
      get: (k) => landed.get(k),
      set: async (k, v) => {
        await new Promise((r) => setTimeout(r, 5)); // an IndexedDB write takes a moment
        if (open) await landed.set(k, v);
      },
      del: async (k) => {
        await new Promise((r) => setTimeout(r, 5));
        if (open) await landed.del(k);
      },
    };
    return { kv, landed, reload: () => (open = false) };
  }

  it("keeps a message sent right before a reload, before its IndexedDB write lands", async () => {
    const idb = reloadableKV();
    const journal = memoryJournal(); // localStorage: survives the reload
    const page1 = new Sender("a", new Outbox(idb.kv, "u", journal), {
      request: () => new Promise<Ack>(() => {}), // sent, never acknowledged before the reload
      sent: () => {},
      held: () => {},
    });
    for (let i = 1; i <= 3; i++) void page1.send(q(i));
    idb.reload(); // at once: no IndexedDB write has landed
    const page2 = new Sender("a", new Outbox(idb.landed, "u", journal), { request: async () => ({ ok: false }) as Ack, sent: () => {}, held: () => {} });
    expect((await page2.restore()).map((x) => x.client_msg_id)).toEqual(["c1", "c2", "c3"]);
  });

  it("lists what IndexedDB has first, then the newer messages only the journal has, each once", async () => {
    const idb = reloadableKV();
    const journal = memoryJournal();
    const box = new Outbox(idb.kv, "u", journal);
    await box.put(q(1));
    await box.put(q(2));
    void box.put(q(3));
    void box.put(q(4));
    idb.reload();
    const next = new Outbox(idb.landed, "u", journal);
    expect((await next.list("a")).map((x) => x.client_msg_id)).toEqual(["c1", "c2", "c3", "c4"]);
    // Acknowledged: gone from both.
    for (let i = 1; i <= 4; i++) await next.remove("a", "c" + i);
    expect(await next.list("a")).toEqual([]);
    expect(journal.get("outbox-journal:u:a")).toBeNull();
  });

  it("empties the journal once IndexedDB has the message", async () => {
    const journal = memoryJournal();
    const box = new Outbox(memoryKV(), "u", journal);
    const done = box.put(q(1));
    expect(journal.get("outbox-journal:u:a")).toContain("c1"); // written before put returns
    await done;
    expect(journal.get("outbox-journal:u:a")).toBeNull();
    expect((await box.list("a")).map((x) => x.client_msg_id)).toEqual(["c1"]);
  });
});

describe("Sender", () => {
  it("delivers in order and empties the outbox only on the server's ack", async () => {
    const s = setup((p, n) => stored(p, n) as Ack);
    const sender = s.make();
    await sender.send(q(1));
    await sender.send(q(2));
    expect(s.sent).toEqual(["c1", "c2"]);
    expect(await s.outbox.list("a")).toEqual([]);
  });

  it("keeps what could not go out, and a new page sends it with the same client_msg_id", async () => {
    let online = false;
    const s = setup((p, n) => (online ? (stored(p, n) as Ack) : { ok: false, error: { code: "offline", message: "" } }));
    const first = s.make();
    await first.send(q(1));
    await first.send(q(2));
    expect(s.sent).toEqual([]);
    expect(s.held.map(([c, h]) => [c, h.kind])).toContainEqual(["c1", "queued"]);
    // The page is reloaded: a new sender finds both in the outbox.
    online = true;
    const second = s.make();
    expect((await second.restore()).map((x) => x.client_msg_id)).toEqual(["c1", "c2"]);
    await second.flush();
    expect(s.sent).toEqual(["c1", "c2"]);
    const ids = s.request.mock.calls.map((c) => (c[1] as Queued).client_msg_id);
    expect(ids.filter((x) => x === "c1").length).toBeGreaterThan(1); // resent, with the same id
    expect(await s.outbox.list("a")).toEqual([]);
  });

  it("does not try while disconnected, and says the messages are waiting", async () => {
    const s = setup((p, n) => stored(p, n) as Ack);
    const sender = s.make();
    sender.connected = () => false;
    await sender.send(q(1));
    expect(s.request).not.toHaveBeenCalled();
    expect(s.held).toEqual([["c1", { kind: "queued" }]]);
    sender.connected = () => true;
    await sender.flush();
    expect(s.sent).toEqual(["c1"]);
  });

  it("waits out a rate limit for the server's hint, then goes on", async () => {
    vi.useFakeTimers();
    const s = setup((p, n) => (n === 1 ? { ok: false, error: { code: "rate_limited", message: "slow down", details: { retry_after: 3 } } } : (stored(p, n) as Ack)));
    const sender = s.make();
    await sender.send(q(1));
    expect(s.held).toEqual([["c1", { kind: "rate_limited", retryInS: 3, until: Date.now() + 3000 }]]);
    expect(s.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(2900);
    expect(s.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(s.sent).toEqual(["c1"]);
  });

  it("says why a message was refused and drops it from the outbox", async () => {
    const s = setup(() => ({ ok: false, error: { code: "forbidden", message: "the room is closed" } }));
    const sender = s.make();
    await sender.send(q(1));
    expect(s.held).toEqual([["c1", { kind: "refused", code: "forbidden", message: "the room is closed" }]]);
    expect(await s.outbox.list("a")).toEqual([]);
  });

  it("reads a retry hint in seconds or milliseconds", () => {
    expect(retryHint({ code: "rate_limited", message: "", details: { retry_after: 2 } })).toBe(2);
    expect(retryHint({ code: "rate_limited", message: "", details: { retry_after_ms: 1500 } })).toBe(2);
    expect(retryHint({ code: "rate_limited", message: "" })).toBe(0);
  });
});
