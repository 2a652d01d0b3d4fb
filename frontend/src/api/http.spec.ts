import { describe, expect, it, vi } from "vitest";
import { ApiError, Http } from "./http";

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("Http", () => {
  it("turns the contract's error shape into ApiError with fields", async () => {
    const fetcher = vi.fn(async () =>
      json(422, { error: { code: "invalid_request", message: "some fields are invalid", details: { fields: { email: "must be an email" } } } }),
    );
    const h = new Http("/api/v1", fetcher as unknown as typeof fetch);
    const err = await h.post("/auth/register", {}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.code).toBe("invalid_request");
    expect(err.fields).toEqual({ email: "must be an email" });
  });

  it("refreshes once on 401 and retries with the new token", async () => {
    const calls: string[] = [];
    const fetcher = vi.fn(async (url: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>)?.Authorization ?? "";
      calls.push(`${init.method} ${url} ${auth}`);
      if (url.endsWith("/auth/refresh")) return json(200, { access_token: "new", refresh_token: "r2", expires_in: 900, user: { id: "u" } });
      return auth === "Bearer new" ? json(200, { ok: 1 }) : json(401, { error: { code: "unauthorized", message: "expired" } });
    });
    const h = new Http("/api/v1", fetcher as unknown as typeof fetch);
    h.setToken("old");
    const sessions: unknown[] = [];
    h.onSession = (s) => sessions.push(s);
    const [a, b] = await Promise.all([h.get("/me"), h.get("/appointments")]);
    expect(a).toEqual({ ok: 1 });
    expect(b).toEqual({ ok: 1 });
    // Two requests failed at once, but only one refresh went out.
    expect(calls.filter((c) => c.includes("/auth/refresh"))).toHaveLength(1);
    expect(sessions).toHaveLength(1);
    expect(h.getToken()).toBe("new");
  });

  it("gives up when the refresh fails and reports the session ended", async () => {
    const fetcher = vi.fn(async (url: string) =>
      url.endsWith("/auth/refresh") ? json(401, { error: { code: "unauthorized", message: "spent" } }) : json(401, { error: { code: "unauthorized", message: "expired" } }),
    );
    const h = new Http("/api/v1", fetcher as unknown as typeof fetch);
    h.setToken("old");
    let ended = false;
    h.onSession = (s) => (ended = s === null);
    const err = await h.get("/me").catch((e) => e);
    expect(err.code).toBe("unauthorized");
    expect(ended).toBe(true);
    expect(h.getToken()).toBe("");
    expect(fetcher).toHaveBeenCalledTimes(2);
  });
});

describe("Http when the server is unavailable", () => {
  const unavailable = () => json(503, { error: { code: "unavailable", message: "try again shortly" } });

  it("keeps the session when the refresh answers 503 unavailable, and says unavailable", async () => {
    const fetcher = vi.fn(async (url: string) =>
      url.endsWith("/auth/refresh") ? unavailable() : json(401, { error: { code: "unauthorized", message: "expired" } }),
    );
    const h = new Http("/api/v1", fetcher as unknown as typeof fetch);
    h.setToken("old");
    const sessions: unknown[] = [];
    h.onSession = (s) => sessions.push(s);
    const err = await h.get("/me").catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(503);
    expect(err.code).toBe("unavailable");
    // Not signed out: no session change, the token is still there.
    expect(sessions).toEqual([]);
    expect(h.getToken()).toBe("old");
    expect(await h.renew()).toBe("unavailable");
    expect(await h.refresh()).toBe(false);
    expect(sessions).toEqual([]);
  });

  it("keeps the session when the refresh gets no answer or another server error", async () => {
    for (const answer of [() => Promise.reject(new TypeError("Failed to fetch")), async () => json(502, {}), async () => json(429, {})]) {
      const h = new Http("/api/v1", vi.fn(answer) as unknown as typeof fetch);
      h.setToken("old");
      let ended = false;
      h.onSession = (s) => (ended = s === null);
      expect(await h.renew()).toBe("unavailable");
      expect(ended).toBe(false);
      expect(h.getToken()).toBe("old");
    }
  });

  it("retries the refresh on the next request and carries on once the server is back", async () => {
    let up = false;
    const fetcher = vi.fn(async (url: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>)?.Authorization ?? "";
      if (url.endsWith("/auth/refresh")) {
        return up ? json(200, { access_token: "new", refresh_token: "r2", expires_in: 900, user: { id: "u" } }) : unavailable();
      }
      return auth === "Bearer new" ? json(200, { ok: 1 }) : json(401, { error: { code: "unauthorized", message: "expired" } });
    });
    const h = new Http("/api/v1", fetcher as unknown as typeof fetch);
    h.setToken("old");
    expect((await h.get("/me").catch((e) => e)).code).toBe("unavailable");
    up = true;
    expect(await h.get("/me")).toEqual({ ok: 1 });
    expect(h.getToken()).toBe("new");
  });

  it("still ends the session when the server refuses the refresh token", async () => {
    for (const status of [400, 401, 403]) {
      const h = new Http("/api/v1", vi.fn(async () => json(status, { error: { code: "unauthorized", message: "spent" } })) as unknown as typeof fetch);
      h.setToken("old");
      let ended = false;
      h.onSession = (s) => (ended = s === null);
      expect(await h.renew()).toBe("ended");
      expect(ended).toBe(true);
      expect(h.getToken()).toBe("");
    }
  });
});

describe("Http without a network", () => {
  it("turns no answer at all into a network error, not a refusal", async () => {
    const h = new Http("/api/v1", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))) as unknown as typeof fetch);
    const err = await h.get("/doctors").catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.network).toBe(true);
    expect(err.code).toBe("network");
  });

  it("keeps the Retry-After of a refusal", async () => {
    const h = new Http("/api/v1", vi.fn(async () => new Response(JSON.stringify({ error: { code: "rate_limited", message: "slow" } }), { status: 429, headers: { "Retry-After": "7" } })) as unknown as typeof fetch);
    const err = await h.get("/doctors").catch((e) => e);
    expect(err.retryAfter).toBe(7);
  });
});

describe("ApiError.fields", () => {
  it("reads details.fields, or a plain details map on a 422", () => {
    expect(new ApiError(422, "invalid_request", "", { fields: { a: "x" } }).fields).toEqual({ a: "x" });
    expect(new ApiError(422, "invalid_request", "", { email: "is required" }).fields).toEqual({ email: "is required" });
    expect(new ApiError(409, "conflict", "", { status: "booked" }).fields).toEqual({});
  });
});
