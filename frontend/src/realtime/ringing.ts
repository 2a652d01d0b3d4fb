// Which calls ring on this screen. Pure: events in, state out, so the
// rules are tested without a browser.
//
// An invite rings every screen of the callee. It stops ringing when this
// screen answers or declines, when another screen of the same person does
// (rtc:accept / rtc:reject from our own user id), when the caller gives up
// (rtc:hangup) or nobody answers in time (rtc:hangup with reason
// "timeout"). A call that ended before its invite arrived (events can
// cross) never starts ringing. A call that stopped ringing without an
// answer anywhere is a missed call for this screen to mention.
import type { Media } from "@/api/types";

export interface Invite {
  appointment_id: string;
  call_id: string;
  media: Media;
  from_user_id: string;
  from_name: string;
}

export interface RingState {
  /** ringing: the calls ringing here, oldest first. */
  ringing: Invite[];
  /** missed: calls that rang here and ended unanswered, newest last. */
  missed: Invite[];
  /** done: call ids that have ended or been answered (an invite for one is stale). */
  done: string[];
}

export type RingEvent =
  | { type: "invite"; invite: Invite }
  | { type: "accept" | "reject"; call_id: string; from_user_id: string }
  | { type: "hangup"; call_id: string; from_user_id: string; reason?: string }
  /** answered / declined: this screen's own choice. */
  | { type: "answered" | "declined"; call_id: string }
  /** seen: the missed calls were shown; forget them. */
  | { type: "seen" };

export const idle: RingState = { ringing: [], missed: [], done: [] };

const DONE_KEEP = 50;

function finish(s: RingState, callId: string, missed: boolean): RingState {
  const call = s.ringing.find((r) => r.call_id === callId);
  return {
    ringing: s.ringing.filter((r) => r.call_id !== callId),
    missed: missed && call ? [...s.missed, call] : s.missed,
    done: s.done.includes(callId) ? s.done : [...s.done, callId].slice(-DONE_KEEP),
  };
}

/** ring applies one event. me is the signed-in user's id. */
export function ring(s: RingState, e: RingEvent, me: string): RingState {
  switch (e.type) {
    case "invite": {
      const i = e.invite;
      if (!i.call_id || i.from_user_id === me || s.done.includes(i.call_id) || s.ringing.some((r) => r.call_id === i.call_id)) return s;
      return { ...s, ringing: [...s.ringing, i] };
    }
    case "accept":
    case "reject":
      // Another screen of mine answered or declined; or the caller's side
      // speaks of a call that is not ringing here: nothing rings any more.
      return finish(s, e.call_id, false);
    case "hangup": {
      const wasRinging = s.ringing.some((r) => r.call_id === e.call_id);
      // The caller gave up or nobody answered: missed, when it rang here.
      return finish(s, e.call_id, wasRinging && e.from_user_id !== me);
    }
    case "answered":
    case "declined":
      return finish(s, e.call_id, false);
    case "seen":
      return s.missed.length ? { ...s, missed: [] } : s;
  }
}

/** current is the call to show: the oldest one ringing. */
export function current(s: RingState): Invite | null {
  return s.ringing[0] ?? null;
}
