// One Socket.IO connection for the signed-in user. It knows the three
// states a person should see (connected, reconnecting, offline), renews
// the access token when the server refuses or expires it, and tells rooms
// to rejoin and catch up after every reconnection.
import { io, type Socket } from "socket.io-client";
import { ref, type Ref } from "vue";
import type { Ack } from "@/api/types";

export type ConnectionState = "connected" | "reconnecting" | "offline";

export interface TokenSource {
  token(): string;
  /** Renews the access token; false when the session is over. */
  refresh(): Promise<boolean>;
}

type Factory = (opts: Record<string, unknown>) => Socket;

export class Realtime {
  socket: Socket | null = null;
  state: Ref<ConnectionState> = ref("offline");
  private reconnectHandlers = new Set<() => void>();
  private listeners: Array<[string, (...a: any[]) => void]> = [];
  private everConnected = false;

  constructor(
    private tokens: TokenSource,
    private factory: Factory = (opts) => io(opts),
  ) {}

  connect() {
    if (this.socket) return;
    const s = this.factory({
      auth: (cb: (a: object) => void) => cb({ token: this.tokens.token() }),
      transports: ["websocket", "polling"],
      reconnectionDelayMax: 5000,
    });
    this.socket = s;
    this.state.value = "reconnecting";
    for (const [ev, fn] of this.listeners) s.on(ev, fn);
    s.on("connect", () => {
      this.state.value = "connected";
      if (this.everConnected) this.reconnectHandlers.forEach((h) => h());
      this.everConnected = true;
    });
    s.on("disconnect", (reason: string) => {
      this.state.value = reason === "io client disconnect" ? "offline" : "reconnecting";
      if (reason === "io server disconnect") void this.renewAndReconnect();
    });
    s.on("connect_error", (err: Error) => {
      this.state.value = "reconnecting";
      if (err.message === "unauthorized") void this.renewAndReconnect();
    });
    s.on("session:expired", () => void this.renewAndReconnect());
    s.io.on("reconnect_attempt", () => (this.state.value = "reconnecting"));
  }

  private async renewAndReconnect() {
    if (!(await this.tokens.refresh())) {
      this.disconnect();
      return;
    }
    const s = this.socket;
    if (s && !s.connected) {
      s.connect();
    }
  }

  disconnect() {
    this.socket?.disconnect();
    this.socket = null;
    this.everConnected = false;
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
