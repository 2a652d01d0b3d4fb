import { beforeEach, describe, expect, it } from "vitest";
import { createPinia, setActivePinia } from "pinia";
import { gap, lastSeq, merge, useChat, type ChatLine } from "./chat";

const msg = (seq: number, over: Partial<ChatLine> = {}): ChatLine => ({
  id: "m" + seq, appointment_id: "a", seq, sender_id: "u1", text: "t" + seq, attachment: null, client_msg_id: "c" + seq, created_at: "", ...over,
});

describe("chat store", () => {
  beforeEach(() => setActivePinia(createPinia()));

  it("orders by seq and drops duplicates", () => {
    const out = merge([msg(2), msg(1)], [msg(3), msg(2), msg(1)]);
    expect(out.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it("replaces the pending line with the acked message, keeping one line", () => {
    const chat = useChat();
    const line = chat.pending("a", "u1", "hello");
    expect(chat.room("a").messages).toHaveLength(1);
    chat.add("a", [msg(7, { client_msg_id: line.client_msg_id, text: "hello" })]);
    const ms = chat.room("a").messages;
    expect(ms).toHaveLength(1);
    expect(ms[0].pending).toBeFalsy();
    expect(ms[0].seq).toBe(7);
    // The broadcast of the same message arriving later changes nothing.
    chat.add("a", [msg(7, { client_msg_id: line.client_msg_id, text: "hello" })]);
    expect(chat.room("a").messages).toHaveLength(1);
  });

  it("keeps pending lines after stored ones and lists them for resending", () => {
    const chat = useChat();
    chat.pending("a", "u1", "queued");
    chat.add("a", [msg(1), msg(2)]);
    expect(chat.room("a").messages.map((m) => m.text)).toEqual(["t1", "t2", "queued"]);
    expect(chat.unsent("a").map((m) => m.text)).toEqual(["queued"]);
    expect(lastSeq(chat.room("a").messages)).toBe(2);
  });

  it("detects gaps and tracks the oldest seq for paging back", () => {
    const chat = useChat();
    chat.add("a", [msg(5), msg(7)]);
    expect(gap(chat.room("a").messages)).toBe(true);
    chat.addOlder("a", [msg(3), msg(4), msg(6)], false);
    expect(gap(chat.room("a").messages)).toBe(false);
    expect(chat.room("a").oldestSeq).toBe(3);
    expect(chat.room("a").hasMore).toBe(false);
  });

  it("read positions never move back", () => {
    const chat = useChat();
    chat.setRead("a", "u2", 5);
    chat.setRead("a", "u2", 3);
    expect(chat.room("a").reads.u2).toBe(5);
  });
});
