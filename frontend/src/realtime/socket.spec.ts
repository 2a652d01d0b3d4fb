import { afterEach, describe, expect, it, vi } from "vitest";
import { Realtime } from "./socket";

// A stand-in for socket.io-client's Socket, enough to drive the wrapper.
class FakeSocket {
  connected = false;
  handlers: Record<string, Array<(...a: any[]) => void>> = {};
  io = { on: vi.fn() };
  emitted: Array<[string, unknown]> = [];
  ackReply: unknown = { ok: true };
  connect = vi.fn(() => {
    this.connected = true;
    this.fire("connect");
  });
  disconnect = vi.fn(() => {
    this.connected = false;
  });
  on(ev: string, fn: (...a: any[]) => void) {
    (this.handlers[ev] ??= []).push(fn);
    return this;
  }
  off(ev: string, fn: (...a: any[]) => void) {
    this.handlers[ev] = (this.handlers[ev] ?? []).filter((f) => f !== fn);
    return this;
  }
  fire(ev: string, ...a: any[]) {
    (this.handlers[ev] ?? []).forEach((f) => f(...a));
  }
  emit(ev: string, p: unknown) {
    this.emitted.push([ev, p]);
  }
  timeout() {
    return { emitWithAck: async (ev: string, p: unknown) => (this.emitted.push([ev, p]), this.ackReply) };
  }
}

function setup(refreshOK = true) {
  const fake = new FakeSocket();
  let token = "t1";
  const tokens = { token: () => token, refresh: vi.fn(async () => ((token = "t2"), refreshOK)) };
  let opts: any;
  const rt = new Realtime(tokens, (o) => ((opts = o), fake as any));
  return { fake, rt, tokens, opts: () => opts };
}

describe("Realtime", () => {
  it("sends the current access token on every (re)connection", () => {
    const { rt, opts } = setup();
    rt.connect();
    let sent: any;
    opts().auth((a: object) => (sent = a));
    expect(sent).toEqual({ token: "t1" });
  });

  it("shows connected, then reconnecting on a drop, and rejoins after reconnecting", () => {
    const { fake, rt } = setup();
    const rejoin = vi.fn();
    rt.onReconnect(rejoin);
    rt.connect();
    expect(rt.state.value).toBe("reconnecting");
    fake.fire("connect");
    expect(rt.state.value).toBe("connected");
    expect(rejoin).not.toHaveBeenCalled();
    fake.fire("disconnect", "transport close");
    expect(rt.state.value).toBe("reconnecting");
    fake.fire("connect");
    expect(rejoin).toHaveBeenCalledTimes(1);
  });

  it("renews the token and reconnects when the server says unauthorized or the session expired", async () => {
    const { fake, rt, tokens } = setup();
    rt.connect();
    fake.fire("connect_error", new Error("unauthorized"));
    await vi.waitFor(() => expect(fake.connect).toHaveBeenCalledTimes(1));
    expect(tokens.refresh).toHaveBeenCalledTimes(1);
    fake.connected = false;
    fake.fire("session:expired");
    await vi.waitFor(() => expect(fake.connect).toHaveBeenCalledTimes(2));
  });

  it("goes offline when the session cannot be renewed", async () => {
    const { fake, rt } = setup(false);
    rt.connect();
    fake.fire("connect_error", new Error("unauthorized"));
    await vi.waitFor(() => expect(rt.state.value).toBe("offline"));
    expect(fake.disconnect).toHaveBeenCalled();
  });

  it("answers requests made while offline with an error ack instead of hanging", async () => {
    const { fake, rt } = setup();
    rt.connect();
    expect(await rt.request("chat:send", {})).toMatchObject({ ok: false, error: { code: "offline" } });
    fake.fire("connect");
    fake.connected = true;
    expect(await rt.request("chat:send", { x: 1 })).toEqual({ ok: true });
  });

  it("keeps app-wide listeners across sockets", () => {
    const { fake, rt } = setup();
    const seen = vi.fn();
    rt.on("notification", seen);
    rt.connect();
    fake.fire("notification", { id: "n1" });
    expect(seen).toHaveBeenCalledWith({ id: "n1" });
  });
});

describe("Realtime when the server is unavailable", () => {
  afterEach(() => vi.useRealTimers());

  it("keeps the session and retries later when the handshake says unavailable", async () => {
    vi.useFakeTimers();
    const { fake, rt, tokens } = setup();
    rt.connect();
    fake.fire("connect_error", new Error("unavailable"));
    expect(rt.state.value).toBe("reconnecting");
    // Not a token problem: no renewal, no sign-out, no immediate hammering.
    expect(tokens.refresh).not.toHaveBeenCalled();
    expect(fake.disconnect).not.toHaveBeenCalled();
    expect(fake.connect).not.toHaveBeenCalled();
    // Still down at the first retry: the next one waits longer.
    fake.connect.mockImplementationOnce(() => fake.fire("connect_error", new Error("unavailable")));
    await vi.advanceTimersByTimeAsync(rt.retryBaseMs);
    expect(fake.connect).toHaveBeenCalledTimes(1);
    expect(rt.state.value).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(rt.retryBaseMs / 2 - 1);
    expect(fake.connect).toHaveBeenCalledTimes(1);
    // Back: the retry connects, and the user is still the same user.
    await vi.advanceTimersByTimeAsync(rt.retryMaxMs);
    expect(fake.connect).toHaveBeenCalledTimes(2);
    expect(rt.state.value).toBe("connected");
    expect(tokens.refresh).not.toHaveBeenCalled();
    expect(fake.disconnect).not.toHaveBeenCalled();
  });

  it("keeps the session when the token renewal is unavailable, and renews again later", async () => {
    vi.useFakeTimers();
    const { fake, rt, tokens } = setup();
    tokens.refresh.mockResolvedValueOnce("unavailable" as any);
    rt.connect();
    fake.fire("connect_error", new Error("unauthorized"));
    await vi.advanceTimersByTimeAsync(0);
    expect(tokens.refresh).toHaveBeenCalledTimes(1);
    expect(rt.state.value).toBe("reconnecting");
    expect(fake.disconnect).not.toHaveBeenCalled();
    expect(fake.connect).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(rt.retryMaxMs);
    expect(tokens.refresh).toHaveBeenCalledTimes(2);
    expect(fake.connect).toHaveBeenCalledTimes(1);
    expect(rt.state.value).toBe("connected");
  });

  it("stops retrying once signed out", async () => {
    vi.useFakeTimers();
    const { fake, rt } = setup();
    rt.connect();
    fake.fire("connect_error", new Error("unavailable"));
    rt.disconnect();
    await vi.advanceTimersByTimeAsync(rt.retryMaxMs * 2);
    expect(fake.connect).not.toHaveBeenCalled();
    expect(rt.state.value).toBe("offline");
  });
});

describe("Realtime and the browser's network", () => {
  it("says offline as soon as the browser loses the network, and reconnects when it is back", () => {
    const { fake, rt } = setup();
    const win = new EventTarget();
    let online = true;
    rt.watchNetwork(win, () => online);
    rt.connect();
    fake.connect();
    expect(rt.state.value).toBe("connected");
    const engine = { close: vi.fn(() => { fake.connected = false; fake.fire("disconnect", "transport close"); }) };
    (fake.io as any).engine = engine;
    online = false;
    win.dispatchEvent(new Event("offline"));
    expect(rt.state.value).toBe("offline");
    expect(engine.close).toHaveBeenCalled();
    // Reconnection attempts while offline keep saying offline, not reconnecting.
    fake.fire("connect_error", new Error("xhr poll error"));
    expect(rt.state.value).toBe("offline");
    online = true;
    fake.connect.mockClear();
    win.dispatchEvent(new Event("online"));
    expect(fake.connect).toHaveBeenCalled();
    expect(rt.state.value).toBe("connected");
  });
});
