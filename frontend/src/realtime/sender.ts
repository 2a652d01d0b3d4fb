// Delivers a room's outgoing messages, in order, through chat:send. Each
// message is in the outbox (IndexedDB) before the first attempt and leaves
// it only once the server has acknowledged it, so nothing is lost to a
// reload or a dropped network; the same client_msg_id is sent every time,
// so a message the server got but could not acknowledge is stored once.
// What the person sees follows each attempt: queued (waiting for the
// network), held back by the server's rate limit (retried after the hint,
// or a growing delay), or refused (with the reason; a retry is by hand).
import type { Ack, Message } from "@/api/types";
import type { Outbox, Queued } from "@/stores/outbox";

/** Hold is why a message is still waiting. */
export type Hold =
  | { kind: "queued" }
  | { kind: "rate_limited"; retryInS: number; until: number }
  | { kind: "refused"; code: string; message: string };

export interface SenderHooks {
  request(event: string, payload: object): Promise<Ack>;
  /** sent: the server stored the message. */
  sent(m: Message): void;
  /** held: the message waits, for the reason given. */
  held(clientMsgId: string, why: Hold): void;
}

/** Ack error codes after which the same message will go through later on its own. */
const transient = new Set(["offline", "timeout", "unavailable", "internal"]);

/** retryHint reads a retry delay (seconds) from an ack error, when the server gives one. */
export function retryHint(err: Ack["error"]): number {
  const d = err?.details ?? {};
  for (const k of ["retry_after", "retry_after_s", "retry_after_seconds"]) {
    const v = Number((d as Record<string, unknown>)[k]);
    if (Number.isFinite(v) && v > 0) return Math.ceil(v);
  }
  const ms = Number((d as Record<string, unknown>).retry_after_ms);
  return Number.isFinite(ms) && ms > 0 ? Math.ceil(ms / 1000) : 0;
}

export class Sender {
  private queue: Queued[] = [];
  private running = false;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private limitedRuns = 0;
  /** connected tells whether attempts can be made now. */
  connected: () => boolean = () => true;

  constructor(
    private room: string,
    private outbox: Outbox,
    private hooks: SenderHooks,
  ) {}

  /** restore loads what a previous page left unsent, and returns it for display. */
  async restore(): Promise<Queued[]> {
    const stored = await this.outbox.list(this.room);
    for (const q of stored) if (!this.queue.some((x) => x.client_msg_id === q.client_msg_id)) this.queue.push(q);
    return stored;
  }

  /** send stores a new message in the outbox and tries to deliver it. */
  async send(q: Queued): Promise<void> {
    this.queue.push(q);
    await this.outbox.put(q);
    await this.flush();
  }

  /** retry puts a refused message back in line. */
  async retry(q: Queued): Promise<void> {
    if (!this.queue.some((x) => x.client_msg_id === q.client_msg_id)) this.queue.push(q);
    await this.outbox.put(q);
    await this.flush();
  }

  /** pending lists what has not been delivered yet. */
  pending(): Queued[] {
    return [...this.queue];
  }

  /** flush tries to deliver the queue in order; one run at a time. */
  async flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return; // waiting out a rate limit
    this.running = true;
    try {
      do {
        this.again = false;
        await this.run();
      } while (this.again && !this.timer);
    } finally {
      this.running = false;
    }
  }

  private async run() {
    while (this.queue.length) {
      const q = this.queue[0];
      if (!this.connected()) {
        this.queue.forEach((x) => this.hooks.held(x.client_msg_id, { kind: "queued" }));
        return;
      }
      const ack = await this.hooks.request("chat:send", { appointment_id: this.room, client_msg_id: q.client_msg_id, text: q.text });
      if (ack.ok) {
        this.limitedRuns = 0;
        this.queue.shift();
        await this.outbox.remove(this.room, q.client_msg_id);
        this.hooks.sent(ack.message as Message);
        continue;
      }
      const code = ack.error?.code ?? "internal";
      if (code === "rate_limited") {
        const wait = retryHint(ack.error) || Math.min(30, 2 ** this.limitedRuns);
        this.limitedRuns++;
        const until = Date.now() + wait * 1000;
        this.queue.forEach((x) => this.hooks.held(x.client_msg_id, { kind: "rate_limited", retryInS: wait, until }));
        this.timer = setTimeout(() => {
          this.timer = null;
          void this.flush();
        }, wait * 1000);
        return;
      }
      if (transient.has(code)) {
        this.queue.forEach((x) => this.hooks.held(x.client_msg_id, { kind: "queued" }));
        return; // the room flushes again on reconnect
      }
      // Refused for good (too long, the room closed, …): say why, keep the
      // text on screen, and go on with the rest.
      this.queue.shift();
      await this.outbox.remove(this.room, q.client_msg_id);
      this.hooks.held(q.client_msg_id, { kind: "refused", code, message: ack.error?.message ?? "" });
    }
  }

  /** dispose stops a pending retry (the outbox keeps what is unsent). */
  dispose() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
