import { beforeEach, describe, expect, it } from "vitest";
import { CallManager } from "@/realtime/call";
import type { Realtime } from "@/realtime/socket";

// A stand-in for the app's socket: events can be pushed in, requests are
// recorded and answered.
function fakeRealtime() {
  const handlers: Record<string, Array<(p: any) => void>> = {};
  const sent: Array<[string, any]> = [];
  const replies: Record<string, any> = {};
  const rt = {
    on(ev: string, fn: (p: any) => void) {
      (handlers[ev] ??= []).push(fn);
      return () => {};
    },
    onReconnect: () => () => {},
    emit: (ev: string, p: any) => sent.push([ev, p]),
    async request(ev: string, p: any) {
      sent.push([ev, p]);
      return replies[ev] ?? { ok: true };
    },
  };
  const push = (ev: string, p: any) => (handlers[ev] ?? []).forEach((f) => f(p));
  return { rt: rt as unknown as Realtime, push, sent, replies };
}

const ME = "patient-1";
const DOC = "doctor-1";
const invite = (call_id = "c1") => ({ appointment_id: "a1", call_id, media: "video", from_user_id: DOC, from_name: "Dr. Chen" });

function manager() {
  const f = fakeRealtime();
  const m = new CallManager(f.rt);
  m.me = () => ME;
  return { m, ...f };
}

beforeEach(() => sessionStorage.clear());

describe("a call ringing here", () => {
  it("rings on an invite and stops when another screen of mine answers", () => {
    const { m, push } = manager();
    push("rtc:invite", invite());
    expect(m.incoming.value?.from_name).toBe("Dr. Chen");
    push("rtc:accept", { appointment_id: "a1", call_id: "c1", from_user_id: ME });
    expect(m.incoming.value).toBeNull();
    expect(m.rings.value.missed).toEqual([]);
  });

  it("becomes a missed call when the ring times out", () => {
    const { m, push } = manager();
    push("rtc:invite", invite());
    push("rtc:hangup", { appointment_id: "a1", call_id: "c1", from_user_id: DOC, reason: "timeout" });
    expect(m.incoming.value).toBeNull();
    expect(m.rings.value.missed.map((x) => x.call_id)).toEqual(["c1"]);
  });

  it("declining tells the server and stops the ring", async () => {
    const { m, push, sent } = manager();
    push("rtc:invite", invite());
    await m.decline(m.incoming.value!);
    expect(sent.some(([ev, p]) => ev === "rtc:reject" && p.appointment_id === "a1")).toBe(true);
    expect(m.incoming.value).toBeNull();
  });

  it("rings in a room whose join reports a call ringing for me", () => {
    const { m } = manager();
    m.fromJoin("a1", { call_id: "c9", state: "ringing", media: "audio", caller_id: DOC }, "Dr. Chen");
    expect(m.incoming.value?.call_id).toBe("c9");
    // My own ringing call is not an incoming one.
    const other = manager().m;
    other.fromJoin("a1", { call_id: "c9", state: "ringing", media: "audio", caller_id: ME }, "x");
    expect(other.incoming.value).toBeNull();
  });
});

describe("my outgoing call", () => {
  async function calling() {
    const f = manager();
    f.replies["rtc:invite"] = { ok: true, call_id: "c1" };
    expect(await f.m.invite("a1", "video", "Dr. Chen")).toBe(true);
    expect(f.m.call.value?.phase).toBe("outgoing");
    return f;
  }

  it("says Declined when the callee refuses, and forgets the call", async () => {
    const { m, push } = await calling();
    expect(JSON.parse(sessionStorage.getItem("call.current")!).callId).toBe("c1");
    push("rtc:reject", { appointment_id: "a1", call_id: "c1", from_user_id: DOC });
    expect(m.call.value).toBeNull();
    expect(m.ended.value?.reason).toBe("declined");
    expect(sessionStorage.getItem("call.current")).toBeNull();
  });

  it("says No answer on a ring timeout, and ignores the end of other calls", async () => {
    const { m, push } = await calling();
    push("rtc:hangup", { appointment_id: "a1", call_id: "other", from_user_id: DOC, reason: "hangup" });
    expect(m.call.value?.callId).toBe("c1");
    push("rtc:hangup", { appointment_id: "a1", call_id: "c1", from_user_id: ME, reason: "timeout" });
    expect(m.ended.value?.reason).toBe("noAnswer");
  });

  it("moves on to connecting when the callee accepts", async () => {
    const { m, push } = await calling();
    push("rtc:accept", { appointment_id: "a1", call_id: "c1", from_user_id: DOC });
    expect(m.call.value?.phase).toBe("connecting");
  });

  it("a busy room is said so", async () => {
    const f = manager();
    f.replies["rtc:invite"] = { ok: false, error: { code: "busy", message: "" } };
    expect(await f.m.invite("a1", "audio", "Dr. Chen")).toBe(false);
    expect(f.m.call.value).toBeNull();
    expect(f.m.ended.value?.reason).toBe("busy");
  });
});

describe("after a reload", () => {
  it("shows the tab's call as reconnecting, and ends it when the room has no call any more", () => {
    sessionStorage.setItem("call.current", JSON.stringify({ appointmentId: "a1", callId: "c1", media: "video", role: "callee", peerName: "Dr. Chen", startedAt: 1 }));
    const { m } = manager();
    expect(m.call.value?.phase).toBe("reconnecting");
    expect(m.holds("a1")).toBe(true);
    m.fromJoin("a1", null);
    expect(m.call.value).toBeNull();
    expect(m.ended.value?.reason).toBe("ended");
  });
});
