import { describe, expect, it } from "vitest";
import type { Appointment, Message } from "@/api/types";
import { apply, bump, read, seed, total, type UnreadMap } from "@/stores/unread";

const at = "2026-01-01T10:00:00Z";
const last = (seq: number, sender_id = "doc") => ({ seq, kind: "text", sender_id, text: "hi " + seq, created_at: at });
const appt = (id: string, unread_count: number, seq = 0) => ({ id, unread_count, last_message: seq ? last(seq) : null }) as unknown as Appointment;
const msg = (appointment_id: string, seq: number, sender_id = "doc") => ({ id: "m" + seq, appointment_id, seq, sender_id, kind: "text", text: "x", attachment: null, client_msg_id: "c" + seq, created_at: at }) as Message;

describe("unread counts", () => {
  it("start from the appointment list", () => {
    const m = seed({}, [appt("a", 2, 7), appt("b", 0), { id: "c" } as Appointment]);
    expect(m.a).toEqual({ count: 2, last: last(7) });
    expect(m.b.count).toBe(0);
    expect(m.c).toBeUndefined();
    expect(total(m)).toBe(2);
  });

  it("follow chat:unread, and tell a new message from a read marker moving", () => {
    let m: UnreadMap = seed({}, [appt("a", 1, 5)]);
    let r = apply(m, { appointment_id: "a", unread_count: 2, last_message: last(6) }, "me");
    expect(r.arrived).toBe(true);
    expect(r.map.a.count).toBe(2);
    m = r.map;
    // Read on another screen: the count drops, nothing arrived.
    r = apply(m, { appointment_id: "a", unread_count: 0, last_message: last(6) }, "me");
    expect(r.arrived).toBe(false);
    expect(total(r.map)).toBe(0);
  });

  it("do not announce my own messages or a repeated push", () => {
    const m = seed({}, [appt("a", 0, 5)]);
    expect(apply(m, { appointment_id: "a", unread_count: 0, last_message: last(6, "me") }, "me").arrived).toBe(false);
    const once = apply(m, { appointment_id: "a", unread_count: 1, last_message: last(6) }, "me").map;
    expect(apply(once, { appointment_id: "a", unread_count: 1, last_message: last(6) }, "me").arrived).toBe(false);
  });

  it("add live messages of joined rooms once each, never my own", () => {
    let r = bump({}, msg("a", 3), "me");
    expect(r.arrived).toBe(true);
    r = bump(r.map, msg("a", 3), "me");
    expect(r.arrived).toBe(false);
    r = bump(r.map, msg("a", 4, "me"), "me");
    expect(r.map.a.count).toBe(1);
  });

  it("clear when the room is read, across rooms in the total", () => {
    const m = seed({}, [appt("a", 2, 4), appt("b", 3, 9)]);
    expect(total(m)).toBe(5);
    const after = read(m, "a");
    expect(after.a.count).toBe(0);
    expect(after.a.last).toEqual(last(4));
    expect(total(after)).toBe(3);
  });
});
