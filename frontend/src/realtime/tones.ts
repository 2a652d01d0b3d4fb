// Ringtone and ring-back, made with the Web Audio API (no sound files).
// A browser that has not had a user gesture yet may keep the audio
// context suspended; the tone then stays silent and the screen still shows
// the call.
import { ref } from "vue";

type Pattern = { freqs: number[]; on: number[]; period: number; gain: number };

// The callee's ring: two short rising chirps, then a pause.
const RING: Pattern = { freqs: [660, 880], on: [0, 0.25, 0.55, 0.8], period: 2.4, gain: 0.18 };
// The caller's ring-back: one soft long tone, then a pause.
const BACK: Pattern = { freqs: [440, 480], on: [0], period: 4, gain: 0.06 };

let ctx: AudioContext | null = null;
let timer: ReturnType<typeof setInterval> | null = null;
let nodes: AudioScheduledSourceNode[] = [];

/** playing: which tone plays now ("" when none), for the screen and tests. */
export const playing = ref<"" | "ring" | "back">("");

function audio(): AudioContext | null {
  const C = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext;
  if (!C) return null;
  ctx ??= new C();
  if (ctx.state === "suspended") void ctx.resume().catch(() => {});
  return ctx;
}

function burst(a: AudioContext, p: Pattern, at: number) {
  const long = p === BACK;
  for (const start of p.on) {
    const len = long ? 1.6 : 0.2;
    const g = a.createGain();
    g.gain.setValueAtTime(0, at + start);
    g.gain.linearRampToValueAtTime(p.gain, at + start + 0.02);
    g.gain.setValueAtTime(p.gain, at + start + len - 0.04);
    g.gain.linearRampToValueAtTime(0, at + start + len);
    g.connect(a.destination);
    const freqs = long ? p.freqs : [p.freqs[p.on.indexOf(start) % p.freqs.length]];
    for (const f of freqs) {
      const o = a.createOscillator();
      o.type = "sine";
      o.frequency.value = f;
      o.connect(g);
      o.start(at + start);
      o.stop(at + start + len + 0.05);
      nodes.push(o);
      o.onended = () => (nodes = nodes.filter((n) => n !== o));
    }
  }
}

function play(kind: "ring" | "back", p: Pattern) {
  if (playing.value === kind) return;
  stopTone();
  playing.value = kind;
  const a = audio();
  if (!a) return;
  const go = () => burst(a, p, a.currentTime + 0.05);
  go();
  timer = setInterval(go, p.period * 1000);
}

export const ringtone = () => play("ring", RING);
export const ringback = () => play("back", BACK);

/** stopTone silences whatever plays, at once. */
export function stopTone() {
  if (timer) clearInterval(timer);
  timer = null;
  for (const n of nodes) {
    try {
      n.stop();
    } catch {
      /* already stopped */
    }
  }
  nodes = [];
  playing.value = "";
}
