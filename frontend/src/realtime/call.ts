// The app's calls. One CallManager for the signed-in user lives as long as
// the app (not a view): a call keeps running while the person opens other
// screens, and comes back after a reload or a reconnection.
//
// Signaling (contract v1.1): rtc:invite rings every device of the callee;
// rtc:accept / rtc:reject / rtc:hangup reach every device of both people
// (but the one that sent them), each with the call's call_id; offers,
// answers and candidates are relayed between the devices that joined the
// room. Media go peer to peer (or through TURN).
//
// Who sends the offer: the device that joins the call. The callee's
// device offers right after its accept (it has joined the room by then,
// so nothing is lost in between), and a device that comes back (a reload,
// a reconnection) offers again. The other side answers any new offer for
// the call with a fresh peer connection, replacing its old one. If both
// offer at once, the callee's side gives way (it takes the caller's offer)
// and the caller's side sends its offer again.
//
// The peers tell each other about muting and the camera over a negotiated
// data channel ("state"), since a disabled track looks the same as a live
// one to the other side.
import { computed, reactive, ref, shallowRef } from "vue";
import { http } from "@/api/http";
import type { CallInfo, Media } from "@/api/types";
import type { Realtime } from "@/realtime/socket";
import { current as ringingNow, idle, ring, type Invite, type RingEvent, type RingState } from "@/realtime/ringing";
import { ringback, ringtone, stopTone } from "@/realtime/tones";

export type CallPhase = "outgoing" | "connecting" | "active" | "reconnecting";
/** EndReason is what the screen says when a call ends. */
export type EndReason = "declined" | "noAnswer" | "ended" | "lost" | "busy" | "media" | "failed" | "cancelled" | "elsewhere";

export interface ActiveCall {
  appointmentId: string;
  callId: string;
  media: Media;
  role: "caller" | "callee";
  peerName: string;
  phase: CallPhase;
  /** startedAt: when the media first connected (ms), 0 before. */
  startedAt: number;
  peerState: string;
  /** peerAway: the other side left the room (reload, lost network). */
  peerAway: boolean;
  remoteMuted: boolean;
  remoteCameraOff: boolean;
  /** remoteVideoLive: frames are arriving (the remote track is not muted). */
  remoteVideoLive: boolean;
}

export interface Ended {
  appointmentId: string;
  reason: EndReason;
  media: Media;
  peerName: string;
  at: number;
}

interface Saved {
  appointmentId: string;
  callId: string;
  media: Media;
  role: "caller" | "callee";
  peerName: string;
  startedAt: number;
}

interface IceServersReply {
  ice_servers: Array<{ urls: string[]; username?: string; credential?: string }>;
}

const SAVED = "call.current";
const DEVICES = "call.devices";
/** How long an offer may go unanswered before it is sent again (ms). */
const OFFER_RETRY_MS = 8000;

function load<T>(store: Storage | undefined, key: string): T | null {
  try {
    const v = store?.getItem(key);
    return v ? (JSON.parse(v) as T) : null;
  } catch {
    return null;
  }
}
function save(store: Storage | undefined, key: string, v: unknown) {
  try {
    if (v === null) store?.removeItem(key);
    else store?.setItem(key, JSON.stringify(v));
  } catch {
    /* storage unavailable */
  }
}
const session = () => (typeof sessionStorage !== "undefined" ? sessionStorage : undefined);
const local = () => (typeof localStorage !== "undefined" ? localStorage : undefined);

/** constraints asks for the chosen devices, else any. */
function constraints(media: Media, devices: { audio?: string; video?: string }): MediaStreamConstraints {
  return {
    audio: devices.audio ? { deviceId: { ideal: devices.audio } } : true,
    video: media === "video" ? (devices.video ? { deviceId: { ideal: devices.video } } : true) : false,
  };
}

export class CallManager {
  /** ringing: what rings on this screen (see ringing.ts). */
  rings = ref<RingState>(idle);
  incoming = computed<Invite | null>(() => ringingNow(this.rings.value));
  call = ref<ActiveCall | null>(null);
  ended = ref<Ended | null>(null);
  localStream = shallowRef<MediaStream | null>(null);
  remoteStream = shallowRef<MediaStream | null>(null);
  muted = ref(false);
  cameraOff = ref(false);
  /** mediaWarning: the call runs without the camera or without any local media. */
  mediaWarning = ref<"" | "noCamera" | "noMedia">("");
  devices = reactive<{ audio?: string; video?: string }>(load(local(), DEVICES) ?? {});
  /** openRoom: the room shown on screen now ("" when none), set by the room view. */
  openRoom = ref("");
  me: () => string = () => "";

  private pc: RTCPeerConnection | null = null;
  private dc: RTCDataChannel | null = null;
  private pendingIce: RTCIceCandidateInit[] = [];
  private iceServers: RTCIceServer[] | null = null;
  private offerTimer: ReturnType<typeof setTimeout> | null = null;
  private awayTimer: ReturnType<typeof setTimeout> | null = null;
  private offerTries = 0;
  private lastOfferAt = 0;
  private restoring: Saved | null = load<Saved>(session(), SAVED);
  private endedTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private rt: Realtime) {
    // What this tab was in before a reload shows at once, as reconnecting.
    const s = this.restoring;
    if (s) this.call.value = this.fresh(s, "reconnecting");
    rt.on("rtc:invite", (p: Invite) => this.ringEvent({ type: "invite", invite: p }));
    rt.on("rtc:accept", (p) => this.onAccept(p));
    rt.on("rtc:reject", (p) => this.onReject(p));
    rt.on("rtc:hangup", (p) => this.onHangup(p));
    rt.on("rtc:offer", (p) => this.mine(p) && void this.onOffer(p.sdp));
    rt.on("rtc:answer", (p) => this.mine(p) && void this.onAnswer(p.sdp));
    rt.on("rtc:ice", (p) => this.mine(p) && void this.onIce(p.candidate));
    rt.on("consultation:presence", (p) => {
      const c = this.call.value;
      if (!c || p.appointment_id !== c.appointmentId || p.user_id === this.me()) return;
      c.peerAway = !p.online;
      if (!p.online && c.phase === "active") c.phase = "reconnecting";
    });
    rt.on("connect", () => void this.rejoin());
    rt.onReconnect(() => void this.rejoin());
  }

  private fresh(s: Saved, phase: CallPhase): ActiveCall {
    return {
      ...s, phase, peerState: "new", peerAway: false, remoteMuted: false, remoteCameraOff: false, remoteVideoLive: false,
    };
  }

  private mine(p: { appointment_id?: string }): boolean {
    const c = this.call.value;
    return !!c && p?.appointment_id === c.appointmentId;
  }

  /** holds reports whether a call keeps the room joined. */
  holds(appointmentId: string): boolean {
    return this.call.value?.appointmentId === appointmentId;
  }

  private persist() {
    const c = this.call.value;
    save(session(), SAVED, c ? ({ appointmentId: c.appointmentId, callId: c.callId, media: c.media, role: c.role, peerName: c.peerName, startedAt: c.startedAt } satisfies Saved) : null);
  }

  // ---- ringing -------------------------------------------------------

  private ringEvent(e: RingEvent) {
    this.rings.value = ring(this.rings.value, e, this.me());
    this.tones();
  }

  private tones() {
    const c = this.call.value;
    if (this.incoming.value) ringtone();
    else if (c?.phase === "outgoing") ringback();
    else stopTone();
  }

  /** seenMissed forgets the missed calls once they were shown. */
  seenMissed() {
    this.ringEvent({ type: "seen" });
  }

  // ---- media ---------------------------------------------------------

  /** getMedia opens the camera and microphone (the chosen ones), falling back to what works. */
  async getMedia(media: Media): Promise<MediaStream | null> {
    const md = navigator.mediaDevices;
    if (!md?.getUserMedia) return null;
    try {
      return await md.getUserMedia(constraints(media, this.devices));
    } catch {
      if (media === "video") {
        try {
          const s = await md.getUserMedia(constraints("audio", this.devices));
          this.mediaWarning.value = "noCamera";
          return s;
        } catch {
          /* no microphone either */
        }
      }
      return null;
    }
  }

  private async ensureMedia(media: Media, given?: MediaStream | null) {
    if (given && given.getTracks().some((t) => t.readyState === "live")) {
      if (this.localStream.value && this.localStream.value !== given) this.stopLocal();
      this.localStream.value = given;
    }
    if (this.localStream.value?.getTracks().some((t) => t.readyState === "live")) return;
    const s = await this.getMedia(media);
    if (!s) this.mediaWarning.value = "noMedia";
    this.localStream.value = s;
    this.applyEnabled();
  }

  private applyEnabled() {
    this.localStream.value?.getAudioTracks().forEach((t) => (t.enabled = !this.muted.value));
    this.localStream.value?.getVideoTracks().forEach((t) => (t.enabled = !this.cameraOff.value));
  }

  private stopLocal() {
    this.localStream.value?.getTracks().forEach((t) => t.stop());
    this.localStream.value = null;
  }

  /** useDevice switches the microphone or camera, in the running call too. */
  async useDevice(kind: "audio" | "video", deviceId: string) {
    this.devices[kind] = deviceId;
    save(local(), DEVICES, { ...this.devices });
    const s = this.localStream.value;
    if (!s || (kind === "video" && this.call.value?.media === "audio")) return;
    let track: MediaStreamTrack | undefined;
    try {
      const got = await navigator.mediaDevices.getUserMedia(kind === "audio" ? { audio: { deviceId: { exact: deviceId } } } : { video: { deviceId: { exact: deviceId } } });
      track = got.getTracks()[0];
    } catch {
      return;
    }
    if (!track) return;
    const old = kind === "audio" ? s.getAudioTracks() : s.getVideoTracks();
    const sender = this.pc?.getSenders().find((x) => x.track?.kind === kind || (!x.track && old.length === 0));
    await sender?.replaceTrack(track).catch(() => {});
    old.forEach((t) => t.stop());
    const next = new MediaStream([...s.getTracks().filter((t) => t.kind !== kind), track]);
    this.localStream.value = next;
    this.applyEnabled();
  }

  toggleMute() {
    this.muted.value = !this.muted.value;
    this.applyEnabled();
    this.sendState();
  }

  toggleCamera() {
    this.cameraOff.value = !this.cameraOff.value;
    this.applyEnabled();
    this.sendState();
  }

  private sendState() {
    if (this.dc?.readyState === "open") this.dc.send(JSON.stringify({ type: "state", muted: this.muted.value, cameraOff: this.cameraOff.value }));
  }

  // ---- starting, answering, ending -----------------------------------

  /** invite calls the other person of a room this screen has joined. */
  async invite(appointmentId: string, media: Media, peerName: string, preview?: MediaStream | null): Promise<boolean> {
    this.clearEnded();
    if (this.call.value) return false;
    this.muted.value = false;
    this.cameraOff.value = false;
    this.mediaWarning.value = "";
    await this.ensureMedia(media, preview);
    const ack = await this.rt.request("rtc:invite", { appointment_id: appointmentId, media });
    if (!ack.ok) {
      this.stopLocal();
      this.finish(appointmentId, ack.error?.code === "busy" || ack.error?.code === "conflict" ? "busy" : "failed", media, peerName);
      return false;
    }
    this.call.value = this.fresh({ appointmentId, callId: String(ack.call_id ?? ""), media, role: "caller", peerName, startedAt: 0 }, "outgoing");
    this.persist();
    this.tones();
    return true;
  }

  /** accept answers a ringing call: joins its room, tells the caller, and offers. */
  async accept(inv: Invite, preview?: MediaStream | null): Promise<boolean> {
    this.ringEvent({ type: "answered", call_id: inv.call_id });
    this.clearEnded();
    if (this.call.value && this.call.value.callId !== inv.call_id) await this.hangup();
    this.muted.value = false;
    this.cameraOff.value = false;
    this.mediaWarning.value = "";
    const join = await this.rt.request("consultation:join", { appointment_id: inv.appointment_id });
    if (!join.ok) {
      this.finish(inv.appointment_id, "failed", inv.media, inv.from_name);
      return false;
    }
    await this.ensureMedia(inv.media, preview);
    const ack = await this.rt.request("rtc:accept", { appointment_id: inv.appointment_id });
    if (!ack.ok) {
      this.stopLocal();
      this.leaveIfUnused(inv.appointment_id);
      this.finish(inv.appointment_id, "ended", inv.media, inv.from_name);
      return false;
    }
    this.call.value = this.fresh(
      { appointmentId: inv.appointment_id, callId: String(ack.call_id ?? inv.call_id), media: inv.media, role: "callee", peerName: inv.from_name, startedAt: 0 },
      "connecting",
    );
    this.persist();
    this.tones();
    await this.offer();
    return true;
  }

  async decline(inv: Invite) {
    this.ringEvent({ type: "declined", call_id: inv.call_id });
    await this.rt.request("rtc:reject", { appointment_id: inv.appointment_id });
  }

  /** hangup ends this screen's call (or cancels it while it rings). */
  async hangup() {
    const c = this.call.value;
    if (!c) return;
    const reason: EndReason = c.phase === "outgoing" ? "cancelled" : "ended";
    this.teardown();
    this.finish(c.appointmentId, reason, c.media, c.peerName);
    await this.rt.request("rtc:hangup", { appointment_id: c.appointmentId });
    this.leaveIfUnused(c.appointmentId);
  }

  private onAccept(p: { appointment_id: string; call_id: string; from_user_id: string }) {
    const c = this.call.value;
    if (c && c.callId === p.call_id && c.role === "caller" && p.from_user_id !== this.me()) {
      if (c.phase === "outgoing") c.phase = "connecting";
      this.tones();
      return;
    }
    this.ringEvent({ type: "accept", call_id: p.call_id, from_user_id: p.from_user_id });
  }

  private onReject(p: { appointment_id: string; call_id: string; from_user_id: string }) {
    const c = this.call.value;
    if (c && c.callId === p.call_id) {
      this.teardown();
      this.finish(c.appointmentId, "declined", c.media, c.peerName);
      this.leaveIfUnused(c.appointmentId);
      return;
    }
    this.ringEvent({ type: "reject", call_id: p.call_id, from_user_id: p.from_user_id });
  }

  private onHangup(p: { appointment_id: string; call_id: string; from_user_id: string; reason?: string }) {
    const c = this.call.value;
    if (c && c.callId === p.call_id) {
      const why: EndReason = p.reason === "timeout" ? "noAnswer" : p.reason === "disconnected" ? "lost" : p.from_user_id === this.me() ? "elsewhere" : "ended";
      this.teardown();
      this.finish(c.appointmentId, why, c.media, c.peerName);
      this.leaveIfUnused(c.appointmentId);
      return;
    }
    this.ringEvent({ type: "hangup", call_id: p.call_id, from_user_id: p.from_user_id, reason: p.reason });
  }

  private finish(appointmentId: string, reason: EndReason, media: Media, peerName: string) {
    this.ended.value = { appointmentId, reason, media, peerName, at: Date.now() };
    if (this.endedTimer) clearTimeout(this.endedTimer);
    this.endedTimer = setTimeout(() => this.clearEnded(), 8000);
  }

  clearEnded() {
    if (this.endedTimer) clearTimeout(this.endedTimer);
    this.endedTimer = null;
    this.ended.value = null;
  }

  private teardown() {
    this.closePeer();
    this.stopLocal();
    this.remoteStream.value = null;
    this.call.value = null;
    this.restoring = null;
    this.persist();
    this.tones();
  }

  /** leaveIfUnused leaves the room the call kept joined, unless it is on screen. */
  private leaveIfUnused(appointmentId: string) {
    if (this.openRoom.value !== appointmentId && !this.holds(appointmentId)) {
      void this.rt.request("consultation:leave", { appointment_id: appointmentId });
    }
  }

  /** signedOut drops everything without a word (the socket is gone). */
  signedOut() {
    this.teardown();
    this.rings.value = idle;
    this.tones();
    this.clearEnded();
  }

  // ---- coming back -----------------------------------------------------

  /**
   * rejoin runs on every (re)connection: a call this tab holds joins its
   * room again and, when the server says it still runs, offers anew.
   */
  private async rejoin() {
    const c = this.call.value;
    if (!c) return;
    const ack = await this.rt.request("consultation:join", { appointment_id: c.appointmentId });
    if (!ack.ok) return;
    this.fromJoin(c.appointmentId, (ack.call as CallInfo | null) ?? null);
  }

  /**
   * fromJoin takes the call a join ack reports for a room (the room view
   * passes every ack here, and names the other person for a ringing call).
   */
  fromJoin(appointmentId: string, info: CallInfo | null, peerName = "") {
    const c = this.call.value;
    if (c && c.appointmentId === appointmentId) {
      if (!info || info.call_id !== c.callId) {
        // It ended while we were away.
        const reason: EndReason = c.phase === "outgoing" ? "noAnswer" : "ended";
        this.teardown();
        this.finish(appointmentId, reason, c.media, c.peerName);
        return;
      }
      this.restoring = null;
      if (info.state === "active" && c.phase === "outgoing") c.phase = "connecting";
      // A device without a working connection (reloaded, or it failed)
      // offers anew; one still connected or negotiating carries on.
      const broken = !this.pc || this.pc.connectionState === "failed" || this.pc.connectionState === "closed";
      if (info.state === "active" && broken && Date.now() - this.lastOfferAt > 3000) {
        if (c.phase !== "outgoing") c.phase = c.startedAt ? "reconnecting" : "connecting";
        void this.comeBack();
      }
      this.tones();
      return;
    }
    // A call ringing for me in a room I opened (its invite came before
    // this page did): ring here too.
    if (info && info.state === "ringing" && info.caller_id !== this.me()) {
      this.ringEvent({
        type: "invite",
        invite: { appointment_id: appointmentId, call_id: info.call_id, media: info.media, from_user_id: info.caller_id, from_name: peerName },
      });
    }
  }

  private async comeBack() {
    const c = this.call.value;
    if (!c) return;
    this.lastOfferAt = Date.now();
    await this.ensureMedia(c.media);
    if (this.call.value === c) await this.offer();
  }

  // ---- the peer connection -------------------------------------------

  private async servers(): Promise<RTCIceServer[]> {
    if (this.iceServers) return this.iceServers;
    try {
      const r = await http.get<IceServersReply>("/rtc/ice-servers");
      this.iceServers = r.ice_servers.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
    } catch {
      this.iceServers = []; // host candidates still work on one network
    }
    return this.iceServers;
  }

  /** closePeer drops the connection (and, unless told otherwise, candidates waiting for one). */
  private closePeer(keepIce = false) {
    if (this.offerTimer) clearTimeout(this.offerTimer);
    if (this.awayTimer) clearTimeout(this.awayTimer);
    this.offerTimer = this.awayTimer = null;
    this.dc?.close();
    this.dc = null;
    this.pc?.close();
    this.pc = null;
    if (!keepIce) this.pendingIce = [];
  }

  /** newPeer makes the new peer connection (candidates that came meanwhile wait for it). */
  private async newPeer(): Promise<RTCPeerConnection> {
    const servers = await this.servers();
    this.closePeer(true);
    const pc = new RTCPeerConnection({ iceServers: servers });
    const remote = new MediaStream();
    this.pc = pc;
    const c = this.call.value;
    const s = this.localStream.value;
    const tracks = s?.getTracks() ?? [];
    tracks.forEach((tr) => pc.addTrack(tr, s!));
    // Receive what this side cannot send (no camera, no microphone).
    if (!tracks.some((t) => t.kind === "audio")) pc.addTransceiver("audio", { direction: "recvonly" });
    if (c?.media === "video" && !tracks.some((t) => t.kind === "video")) pc.addTransceiver("video", { direction: "recvonly" });
    const dc = pc.createDataChannel("state", { negotiated: true, id: 0 });
    this.dc = dc;
    dc.onopen = () => this.sendState();
    dc.onmessage = (e) => {
      const call = this.call.value;
      if (!call || pc !== this.pc) return;
      try {
        const m = JSON.parse(String(e.data));
        if (m.type === "state") {
          call.remoteMuted = !!m.muted;
          call.remoteCameraOff = !!m.cameraOff;
        }
      } catch {
        /* not ours */
      }
    };
    pc.onicecandidate = (e) => {
      const call = this.call.value;
      if (e.candidate && call && pc === this.pc) this.rt.emit("rtc:ice", { appointment_id: call.appointmentId, candidate: e.candidate.toJSON() });
    };
    pc.ontrack = (e) => {
      if (pc !== this.pc) return;
      if (!remote.getTracks().includes(e.track)) remote.addTrack(e.track);
      this.remoteStream.value = new MediaStream(remote.getTracks());
      if (e.track.kind === "video") {
        const live = () => this.call.value && pc === this.pc && (this.call.value.remoteVideoLive = !e.track.muted);
        e.track.onmute = live;
        e.track.onunmute = live;
        live();
      }
    };
    pc.onconnectionstatechange = () => this.peerChanged(pc);
    return pc;
  }

  private peerChanged(pc: RTCPeerConnection) {
    const c = this.call.value;
    if (!c || pc !== this.pc) return;
    c.peerState = pc.connectionState;
    if (pc.connectionState === "connected") {
      if (this.offerTimer) clearTimeout(this.offerTimer);
      if (this.awayTimer) clearTimeout(this.awayTimer);
      this.offerTimer = this.awayTimer = null;
      this.offerTries = 0;
      c.phase = "active";
      c.peerAway = false;
      if (!c.startedAt) c.startedAt = Date.now();
      this.persist();
    } else if (pc.connectionState === "disconnected" || pc.connectionState === "failed") {
      if (c.phase === "active") c.phase = "reconnecting";
      // A network change with both still here: the caller's side builds
      // the connection again (the other side may also just come back and
      // offer on its own).
      if (this.awayTimer) clearTimeout(this.awayTimer);
      this.awayTimer = setTimeout(
        () => {
          if (this.pc === pc && pc.connectionState !== "connected" && this.call.value?.role === "caller") void this.offer();
        },
        pc.connectionState === "failed" ? 500 : 6000,
      );
    }
  }

  /** offer builds a new connection and offers it to the other side. */
  private async offer() {
    const c = this.call.value;
    if (!c) return;
    this.lastOfferAt = Date.now();
    this.closePeer();
    const pc = await this.newPeer();
    const o = await pc.createOffer();
    if (pc !== this.pc) return;
    await pc.setLocalDescription(o);
    const ack = await this.rt.request("rtc:offer", { appointment_id: c.appointmentId, sdp: pc.localDescription?.toJSON() });
    if (!ack.ok && ack.error?.code !== "offline" && ack.error?.code !== "timeout" && this.call.value === c && pc === this.pc) {
      // The server knows no such call any more.
      this.teardown();
      this.finish(c.appointmentId, "ended", c.media, c.peerName);
      this.leaveIfUnused(c.appointmentId);
      return;
    }
    // An offer that gets no answer (the other side was not back yet) is sent again.
    if (this.offerTimer) clearTimeout(this.offerTimer);
    this.offerTimer = setTimeout(() => {
      if (this.pc === pc && pc.signalingState === "have-local-offer" && this.call.value === c && this.offerTries++ < 5) void this.offer();
    }, OFFER_RETRY_MS);
  }

  private async onOffer(sdp: RTCSessionDescriptionInit) {
    const c = this.call.value;
    if (!c) return;
    const pc0 = this.pc;
    if (pc0 && pc0.signalingState === "have-local-offer" && c.role === "caller") {
      // Both offered: the caller's offer wins; say it again so the other side has it.
      void this.rt.request("rtc:offer", { appointment_id: c.appointmentId, sdp: pc0.localDescription?.toJSON() });
      return;
    }
    // Whatever came for the old connection is of no use to the new one;
    // candidates for the new one queue until it exists.
    this.closePeer();
    if (c.phase === "outgoing") c.phase = "connecting";
    else if (c.startedAt) c.phase = "reconnecting";
    this.tones();
    await this.ensureMedia(c.media);
    const pc = await this.newPeer();
    await pc.setRemoteDescription(sdp);
    const answer = await pc.createAnswer();
    if (pc !== this.pc) return;
    await pc.setLocalDescription(answer);
    await this.flushIce();
    await this.rt.request("rtc:answer", { appointment_id: c.appointmentId, sdp: pc.localDescription?.toJSON() });
  }

  private async onAnswer(sdp: RTCSessionDescriptionInit) {
    const pc = this.pc;
    if (!pc || pc.signalingState !== "have-local-offer") return;
    await pc.setRemoteDescription(sdp).catch(() => {});
    await this.flushIce();
  }

  private async onIce(cand: RTCIceCandidateInit) {
    if (!this.pc || !this.pc.remoteDescription) {
      this.pendingIce.push(cand);
      return;
    }
    await this.pc.addIceCandidate(cand).catch(() => {});
  }

  private async flushIce() {
    const q = this.pendingIce;
    this.pendingIce = [];
    for (const c of q) await this.pc?.addIceCandidate(c).catch(() => {});
  }
}
