import { describe, expect, it } from "vitest";
import { current, idle, ring, type Invite, type RingState } from "@/realtime/ringing";

const me = "callee";
const inv = (call_id: string, extra: Partial<Invite> = {}): Invite => ({
  appointment_id: "a1", call_id, media: "video", from_user_id: "doctor", from_name: "Dr. Chen", ...extra,
});
const run = (...events: Parameters<typeof ring>[1][]): RingState => events.reduce((s, e) => ring(s, e, me), idle);

describe("ringing", () => {
  it("rings on an invite, once per call", () => {
    const s = run({ type: "invite", invite: inv("c1") }, { type: "invite", invite: inv("c1") });
    expect(s.ringing.map((r) => r.call_id)).toEqual(["c1"]);
    expect(current(s)?.from_name).toBe("Dr. Chen");
  });

  it("stops when another screen of mine accepts or declines, without a missed call", () => {
    for (const type of ["accept", "reject"] as const) {
      const s = run({ type: "invite", invite: inv("c1") }, { type, call_id: "c1", from_user_id: me });
      expect(current(s)).toBeNull();
      expect(s.missed).toEqual([]);
    }
  });

  it("stops on this screen's own answer or refusal", () => {
    expect(current(run({ type: "invite", invite: inv("c1") }, { type: "answered", call_id: "c1" }))).toBeNull();
    expect(current(run({ type: "invite", invite: inv("c1") }, { type: "declined", call_id: "c1" }))).toBeNull();
  });

  it("counts a ring timeout or the caller giving up as a missed call", () => {
    const t = run({ type: "invite", invite: inv("c1") }, { type: "hangup", call_id: "c1", from_user_id: "doctor", reason: "timeout" });
    expect(current(t)).toBeNull();
    expect(t.missed.map((r) => r.call_id)).toEqual(["c1"]);
    const seen = ring(t, { type: "seen" }, me);
    expect(seen.missed).toEqual([]);
  });

  it("ignores the end of a call that does not ring here", () => {
    const s = run({ type: "invite", invite: inv("c1") }, { type: "hangup", call_id: "other", from_user_id: "doctor" });
    expect(current(s)?.call_id).toBe("c1");
    expect(s.missed).toEqual([]);
  });

  it("never rings for a call that already ended (events crossed)", () => {
    const s = run({ type: "hangup", call_id: "c1", from_user_id: "doctor", reason: "timeout" }, { type: "invite", invite: inv("c1") });
    expect(current(s)).toBeNull();
  });

  it("never rings for my own invite", () => {
    expect(current(run({ type: "invite", invite: inv("c1", { from_user_id: me }) }))).toBeNull();
  });

  it("keeps a second call from another room ringing after the first is answered", () => {
    const s = run({ type: "invite", invite: inv("c1") }, { type: "invite", invite: inv("c2", { appointment_id: "a2" }) }, { type: "answered", call_id: "c1" });
    expect(current(s)?.call_id).toBe("c2");
  });
});
