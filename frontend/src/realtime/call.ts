// One audio/video call in a consultation room. The server only relays the
// signaling (rtc:* events) between the two participants; media goes peer to
// peer (or through TURN with the short-lived credentials from the API).
import { ref, shallowRef } from "vue";
import { http } from "@/api/http";
import type { Realtime } from "@/realtime/socket";

export type CallPhase = "idle" | "ringing" | "incoming" | "active";

interface IceServersReply {
  ice_servers: Array<{ urls: string[]; username?: string; credential?: string }>;
}

export class Call {
  phase = ref<CallPhase>("idle");
  media = ref<"audio" | "video">("video");
  peerState = ref<string>("new");
  remoteStream = shallowRef<MediaStream | null>(null);
  localStream = shallowRef<MediaStream | null>(null);
  muted = ref(false);
  cameraOff = ref(false);
  from = ref("");
  notice = ref("");
  private pc: RTCPeerConnection | null = null;
  private pendingIce: RTCIceCandidateInit[] = [];
  private offs: Array<() => void> = [];

  constructor(
    private rt: Realtime,
    private appointmentId: string,
  ) {
    const mine = (p: { appointment_id?: string }) => p?.appointment_id === this.appointmentId;
    this.offs.push(
      rt.on("rtc:invite", (p) => {
        if (!mine(p)) return;
        this.media.value = p.media;
        this.from.value = p.from_user_id;
        this.phase.value = "incoming";
      }),
      rt.on("rtc:accept", (p) => mine(p) && void this.startOffer()),
      rt.on("rtc:reject", (p) => mine(p) && this.end("rejected")),
      rt.on("rtc:hangup", (p) => mine(p) && this.end(p.reason ?? "hangup")),
      rt.on("rtc:offer", (p) => mine(p) && void this.onOffer(p.sdp)),
      rt.on("rtc:answer", (p) => mine(p) && void this.onAnswer(p.sdp)),
      rt.on("rtc:ice", (p) => mine(p) && void this.onIce(p.candidate)),
    );
  }

  private async media$(): Promise<MediaStream> {
    if (!this.localStream.value) {
      this.localStream.value = await navigator.mediaDevices.getUserMedia({ audio: true, video: this.media.value === "video" });
    }
    return this.localStream.value;
  }

  private async peer(): Promise<RTCPeerConnection> {
    if (this.pc) return this.pc;
    let iceServers: RTCIceServer[] = [];
    try {
      const r = await http.get<IceServersReply>("/rtc/ice-servers");
      iceServers = r.ice_servers.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
    } catch {
      /* host candidates still work on one network */
    }
    const pc = new RTCPeerConnection({ iceServers });
    this.pc = pc;
    const stream = await this.media$();
    stream.getTracks().forEach((tr) => pc.addTrack(tr, stream));
    pc.onicecandidate = (e) => {
      if (e.candidate) this.rt.emit("rtc:ice", { appointment_id: this.appointmentId, candidate: e.candidate.toJSON() });
    };
    pc.ontrack = (e) => {
      this.remoteStream.value = e.streams[0] ?? new MediaStream([e.track]);
    };
    pc.onconnectionstatechange = () => {
      this.peerState.value = pc.connectionState;
      if (pc.connectionState === "failed") void this.hangup();
    };
    return pc;
  }

  async invite(media: "audio" | "video") {
    this.notice.value = "";
    this.media.value = media;
    try {
      await this.media$();
    } catch {
      this.notice.value = "media";
      return;
    }
    const ack = await this.rt.request("rtc:invite", { appointment_id: this.appointmentId, media });
    if (!ack.ok) {
      this.notice.value = ack.error?.code ?? "error";
      this.stopMedia();
      return;
    }
    this.phase.value = "ringing";
  }

  async accept() {
    await this.media$();
    const ack = await this.rt.request("rtc:accept", { appointment_id: this.appointmentId });
    if (!ack.ok) {
      this.end(ack.error?.code ?? "error");
      return;
    }
    this.phase.value = "active";
    await this.peer();
  }

  async reject() {
    await this.rt.request("rtc:reject", { appointment_id: this.appointmentId });
    this.end("rejected");
  }

  async hangup() {
    await this.rt.request("rtc:hangup", { appointment_id: this.appointmentId });
    this.end("hangup");
  }

  private async startOffer() {
    this.phase.value = "active";
    const pc = await this.peer();
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await this.rt.request("rtc:offer", { appointment_id: this.appointmentId, sdp: pc.localDescription?.toJSON() });
  }

  private async onOffer(sdp: RTCSessionDescriptionInit) {
    const pc = await this.peer();
    await pc.setRemoteDescription(sdp);
    await this.flushIce();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await this.rt.request("rtc:answer", { appointment_id: this.appointmentId, sdp: pc.localDescription?.toJSON() });
  }

  private async onAnswer(sdp: RTCSessionDescriptionInit) {
    if (!this.pc) return;
    await this.pc.setRemoteDescription(sdp);
    await this.flushIce();
  }

  private async onIce(c: RTCIceCandidateInit) {
    if (!this.pc || !this.pc.remoteDescription) {
      this.pendingIce.push(c);
      return;
    }
    await this.pc.addIceCandidate(c).catch(() => {});
  }

  private async flushIce() {
    const q = this.pendingIce;
    this.pendingIce = [];
    for (const c of q) await this.pc?.addIceCandidate(c).catch(() => {});
  }

  toggleMute() {
    this.muted.value = !this.muted.value;
    this.localStream.value?.getAudioTracks().forEach((t) => (t.enabled = !this.muted.value));
  }

  toggleCamera() {
    this.cameraOff.value = !this.cameraOff.value;
    this.localStream.value?.getVideoTracks().forEach((t) => (t.enabled = !this.cameraOff.value));
  }

  private stopMedia() {
    this.localStream.value?.getTracks().forEach((t) => t.stop());
    this.localStream.value = null;
  }

  end(reason: string) {
    this.pc?.close();
    this.pc = null;
    this.pendingIce = [];
    this.stopMedia();
    this.remoteStream.value = null;
    this.peerState.value = "closed";
    this.phase.value = "idle";
    this.notice.value = reason;
    setTimeout(() => {
      if (this.phase.value === "idle" && this.notice.value === reason) this.notice.value = "";
    }, 5000);
  }

  dispose() {
    if (this.phase.value !== "idle") void this.hangup();
    this.offs.forEach((f) => f());
  }
}
