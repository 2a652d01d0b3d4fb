// One Socket.IO connection for the signed-in user. It knows the three
// states a person should see (connected, reconnecting, offline), renews
// the access token when the server refuses or expires it, and tells rooms
// to rejoin and catch up after every reconnection. A server that cannot
// check the session now (handshake refused with "unavailable", or a token
// renewal that gets no verdict) keeps the session: the socket stays
// "reconnecting" and tries again later, with a growing, bounded delay.
// The browser's own network events count too: when it goes offline the
// state says so at once (a socket can take up to a heartbeat to notice),
// and when it comes back the socket reconnects without waiting for its
// back-off.
import { io, type Socket } from "socket.io-client";
import { ref, type Ref } from "vue";
import type { Ack } from "@/api/types";
import type { RefreshOutcome } from "@/api/http";

export type ConnectionState = "connected" | "reconnecting" | "offline";

export interface TokenSource {
  token(): string;
  /**
   * Renews the access token: "renewed", "ended" when the session is over,
   * "unavailable" when the server cannot say now (true/false are taken as
   * renewed/ended).
   */
  refresh(): Promise<RefreshOutcome | boolean>;
}

function outcomeOf(r: RefreshOutcome | boolean): RefreshOutcome {
  if (r === true) return "renewed";
  if (r === false) return "ended";
  return r;
}

type Factory = (opts: Record<string, unknown>) => Socket;

export class Realtime {
  socket: Socket | null = null;
  state: Ref<ConnectionState> = ref("offline");
  /** connectedOnce: this sign-in has had a connection (so a lost one is news). */
  connectedOnce: Ref<boolean> = ref(false);
  /** online: what the browser says about its network. */
  online: Ref<boolean> = ref(true);
  private reconnectHandlers = new Set<() => void>();
  private listeners: Array<[string, (...a: any[]) => void]> = [];
  private everConnected = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retries = 0;
  /** First and longest delay (ms) between retries while the server is unavailable. */
  retryBaseMs = 1000;
  retryMaxMs = 30000;

  constructor(
    private tokens: TokenSource,
    private factory: Factory = (opts) => io(opts),
  ) {}

  /**
   * watchNetwork follows the browser's online and offline events (window
   * by default). Returns a function that stops watching.
   */
  watchNetwork(target: EventTarget = window, isOnline: () => boolean = () => navigator.onLine): () => void {
    this.online.value = isOnline();
    const off = () => this.wentOffline();
    const on = () => this.cameOnline();
    target.addEventListener("offline", off);
    target.addEventListener("online", on);
    return () => {
      target.removeEventListener("offline", off);
      target.removeEventListener("online", on);
    };
  }

  /** wentOffline: no network, so no socket; say so now, and let the socket know. */
  wentOffline() {
    this.online.value = false;
    if (!this.socket) return;
    this.state.value = "offline";
    // The connection cannot carry anything now; closing the transport
    // makes sends fail fast (and queue) instead of waiting for an answer.
    const engine = (this.socket.io as unknown as { engine?: { close(): void } }).engine;
    engine?.close();
  }

  /** cameOnline: the network is back; reconnect at once. */
  cameOnline() {
    this.online.value = true;
    const s = this.socket;
    if (!s || s.connected) return;
    this.state.value = "reconnecting";
    this.clearRetry();
    // Restart the manager so it connects now, not after its back-off.
    s.disconnect();
    s.connect();
  }

  /** down is the state for a lost connection: offline without a network, else reconnecting. */
  private down(): ConnectionState {
    return this.online.value ? "reconnecting" : "offline";
  }

  connect() {
    if (this.socket) return;
    const s = this.factory({
      auth: (cb: (a: object) => void) => cb({ token: this.tokens.token() }),
      transports: ["websocket", "polling"],
      reconnectionDelayMax: 5000,
    });
    this.socket = s;
    this.state.value = this.down();
    for (const [ev, fn] of this.listeners) s.on(ev, fn);
    s.on("connect", () => {
      this.clearRetry();
      this.retries = 0;
      this.state.value = "connected";
      this.connectedOnce.value = true;
      if (this.everConnected) this.reconnectHandlers.forEach((h) => h());
      this.everConnected = true;
    });
    s.on("disconnect", (reason: string) => {
      this.state.value = reason === "io client disconnect" && !this.socket ? "offline" : this.down();
      if (reason === "io server disconnect") void this.renewAndReconnect();
    });
    s.on("connect_error", (err: Error) => {
      this.state.value = this.down();
      if (err.message === "unauthorized") void this.renewAndReconnect();
      // The server could not check the session (its database is down):
      // the session is fine, ask again later.
      else if (err.message === "unavailable") this.retryLater(() => this.reconnect());
    });
    s.on("session:expired", () => void this.renewAndReconnect());
    s.io.on("reconnect_attempt", () => (this.state.value = this.down()));
  }

  private async renewAndReconnect() {
    const outcome = outcomeOf(await this.tokens.refresh());
    if (!this.socket) return; // disconnected meanwhile
    if (outcome === "ended") {
      this.disconnect();
      return;
    }
    if (outcome === "unavailable") {
      this.state.value = this.down();
      this.retryLater(() => void this.renewAndReconnect());
      return;
    }
    this.reconnect();
  }

  private reconnect() {
    const s = this.socket;
    if (s && !s.connected) {
      s.connect();
    }
  }

  /** retryLater runs f after a delay that doubles per retry up to retryMaxMs, with jitter. */
  private retryLater(f: () => void) {
    if (this.retryTimer) return; // one retry pending at a time
    const step = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(this.retries, 16));
    this.retries++;
    const delay = step / 2 + Math.random() * (step / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.socket) f();
    }, delay);
  }

  private clearRetry() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  disconnect() {
    this.clearRetry();
    this.retries = 0;
    this.socket?.disconnect();
    this.socket = null;
    this.everConnected = false;
    this.connectedOnce.value = false;
    this.state.value = "offline";
  }

  /** on subscribes to a server event for the life of the app. */
  on(event: string, fn: (...a: any[]) => void): () => void {
    this.listeners.push([event, fn]);
    this.socket?.on(event, fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l[1] !== fn);
      this.socket?.off(event, fn);
    };
  }

  /** onReconnect runs after every reconnection (not the first connect). */
  onReconnect(fn: () => void): () => void {
    this.reconnectHandlers.add(fn);
    return () => this.reconnectHandlers.delete(fn);
  }

  /** request emits with an acknowledgement; a timeout or offline socket is an error ack. */
  async request(event: string, payload: object, timeoutMs = 8000): Promise<Ack> {
    const s = this.socket;
    if (!s || !s.connected) return { ok: false, error: { code: "offline", message: "not connected" } };
    try {
      return (await s.timeout(timeoutMs).emitWithAck(event, payload)) as Ack;
    } catch {
      return { ok: false, error: { code: "timeout", message: "no answer from the server" } };
    }
  }

  emit(event: string, payload: object) {
    this.socket?.emit(event, payload);
  }
}
