import { afterEach, describe, expect, it, vi } from "vitest";
import { Sender, retryHint, type Hold } from "./sender";
import { Outbox, memoryKV, type Queued } from "@/stores/outbox";
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
