import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createPinia, setActivePinia } from "pinia";
import { http, type Session } from "@/api/http";
import { cancelRestoreRetry, restoreRetryMs, useAuth } from "./auth";

const session = (token: string): Session => ({
  access_token: token,
  refresh_token: "",
  expires_in: 900,
  user: { id: "u1", email: "pat@example.com", name: "Pat", role: "patient", time_zone: "UTC" },
});

describe("auth store when the server is unavailable", () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.useFakeTimers();
  });
  afterEach(() => {
    cancelRestoreRetry();
    vi.restoreAllMocks();
    vi.useRealTimers();
    http.setToken("");
  });

  it("keeps the signed-in user when a refresh answers unavailable", async () => {
    const auth = useAuth();
    auth.apply(session("t1"));
    http.onSession = (s) => auth.apply(s);
    vi.spyOn(globalThis, "fetch").mockResolvedValue(
      new Response(JSON.stringify({ error: { code: "unavailable", message: "down" } }), { status: 503, headers: { "Content-Type": "application/json" } }),
    );
    expect(await http.renew()).toBe("unavailable");
    expect(auth.signedIn).toBe(true);
    expect(auth.user?.id).toBe("u1");
    expect(http.getToken()).toBe("t1");
  });

  it("restores the session of a reload once the server is back, without signing in again", async () => {
    const renew = vi.spyOn(http, "renew").mockResolvedValueOnce("unavailable").mockResolvedValueOnce("unavailable");
    const auth = useAuth();
    expect(await auth.restore()).toBe(false);
    expect(auth.ready).toBe(false); // the next navigation asks again
    expect(auth.unavailable).toBe(true);
    await vi.advanceTimersByTimeAsync(restoreRetryMs[0]);
    expect(renew).toHaveBeenCalledTimes(2);
    expect(auth.ready).toBe(false);
    renew.mockImplementationOnce(async () => {
      http.onSession(session("t2"));
      return "renewed";
    });
    await vi.advanceTimersByTimeAsync(restoreRetryMs[1]);
    expect(renew).toHaveBeenCalledTimes(3);
    expect(auth.ready).toBe(true);
    expect(auth.unavailable).toBe(false);
    expect(auth.user?.id).toBe("u1");
    expect(http.getToken()).toBe("t2");
    // Done: no more background attempts.
    await vi.advanceTimersByTimeAsync(60000);
    expect(renew).toHaveBeenCalledTimes(3);
  });

  it("treats a refused refresh token as signed out, with no retries", async () => {
    const renew = vi.spyOn(http, "renew").mockResolvedValue("ended");
    const auth = useAuth();
    expect(await auth.restore()).toBe(false);
    expect(auth.ready).toBe(true);
    expect(auth.unavailable).toBe(false);
    await vi.advanceTimersByTimeAsync(60000);
    expect(renew).toHaveBeenCalledTimes(1);
  });
});
