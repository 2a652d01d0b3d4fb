import type { Fee } from "@/util/fee";
// The REST client: JSON in and out, the contract's error shape turned into
// ApiError, and a silent refresh of the access token on 401 (one refresh in
// flight at a time; every waiting request retries once with the new token).
// Only the server refusing the refresh token ends the session: a server
// that is down or unreachable (503 unavailable, 5xx, no answer) keeps it,
// and the next refresh tries again.

export interface ErrorBody {
  error?: { code?: string; message?: string; details?: Record<string, unknown> };
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details: Record<string, unknown> = {},
    /** Seconds to wait before retrying (Retry-After), when the server said. */
    public retryAfter = 0,
  ) {
    super(message);
  }

  /** network: no answer at all (offline, server unreachable), as opposed to a refusal. */
  get network(): boolean {
    return this.code === "network";
  }

  /**
   * Field problems of a 422, for forms: details.fields (the server's shape),
   * or details itself when it is a plain map of field to message.
   */
  get fields(): Record<string, string> {
    const f = this.details?.fields;
    if (f && typeof f === "object") return f as Record<string, string>;
    if (this.status !== 422) return {};
    const d = this.details ?? {};
    const entries = Object.entries(d);
    return entries.length && entries.every(([, v]) => typeof v === "string") ? (d as Record<string, string>) : {};
  }
}

export async function toApiError(res: Response): Promise<ApiError> {
  let body: ErrorBody = {};
  try {
    body = (await res.json()) as ErrorBody;
  } catch {
    /* not JSON */
  }
  const e = body.error ?? {};
  const retry = Number(res.headers.get("Retry-After") ?? 0);
  return new ApiError(res.status, e.code ?? "http_" + res.status, e.message ?? res.statusText, e.details ?? {}, Number.isFinite(retry) ? retry : 0);
}

/** networkError is what a request gets when no answer came back at all. */
export function networkError(): ApiError {
  return new ApiError(0, "network", "The server could not be reached.");
}

/** UploadProgress reports bytes sent of an upload. */
export type UploadProgress = (sent: number, total: number) => void;

export interface Session {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: User;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: "patient" | "doctor" | "admin";
  time_zone: string;
  /** The language of the account (its mails and notifications, and the app's at sign-in). */
  locale?: string;
  doctor?: { specialty: string; bio: string; fee?: Fee | null } | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

type Fetch = typeof fetch;

/**
 * What a refresh came to: a new pair ("renewed"), a refused refresh token
 * ("ended": sign in again), or no verdict because the server or the
 * network is down ("unavailable": keep the session, retry later).
 */
export type RefreshOutcome = "renewed" | "ended" | "unavailable";

/** sessionRefused tells a refused refresh token from a server that cannot answer now. */
export function sessionRefused(status: number): boolean {
  return status === 400 || status === 401 || status === 403;
}

/** unavailableError is what a request gets while the session cannot be renewed for now. */
export function unavailableError(): ApiError {
  return new ApiError(503, "unavailable", "The service is temporarily unavailable; try again shortly.");
}

/** Http keeps the access token and knows how to renew it. */
export class Http {
  private token = "";
  private refreshing: Promise<RefreshOutcome> | null = null;
  onSession: (s: Session | null) => void = () => {};

  constructor(
    private base = "/api/v1",
    private fetcher: Fetch = (...a) => fetch(...a),
  ) {}

  setToken(t: string) {
    this.token = t;
  }
  getToken() {
    return this.token;
  }

  /**
   * renew trades the refresh cookie (HttpOnly, never visible to scripts)
   * for a new pair. Concurrent callers share one request. Only a refusal
   * (400/401/403) ends the session; 503 unavailable, another server error
   * or no answer at all leaves the token and the user as they are.
   */
  renew(): Promise<RefreshOutcome> {
    if (!this.refreshing) {
      this.refreshing = (async (): Promise<RefreshOutcome> => {
        try {
          const res = await this.fetcher(this.base + "/auth/refresh", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            credentials: "same-origin",
            body: "{}",
          });
          if (!res.ok) {
            if (!sessionRefused(res.status)) return "unavailable";
            this.token = "";
            this.onSession(null);
            return "ended";
          }
          const s = (await res.json()) as Session;
          this.token = s.access_token;
          this.onSession(s);
          return "renewed";
        } catch {
          return "unavailable";
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
  }

  /** refresh is renew as a yes/no: true when a new pair arrived. */
  async refresh(): Promise<boolean> {
    return (await this.renew()) === "renewed";
  }

  async request<T>(method: string, path: string, body?: unknown, retry = true): Promise<T> {
    const headers: Record<string, string> = {};
    let payload: BodyInit | undefined;
    if (body instanceof FormData) {
      payload = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    if (this.token) headers.Authorization = "Bearer " + this.token;
    let res: Response;
    try {
      res = await this.fetcher(this.base + path, { method, headers, body: payload, credentials: "same-origin" });
    } catch {
      throw networkError();
    }
    if (res.status === 401 && retry && !path.startsWith("/auth/")) {
      const outcome = await this.renew();
      if (outcome === "renewed") return this.request<T>(method, path, body, false);
      // The token may be fine; the server just cannot say so now.
      if (outcome === "unavailable") throw unavailableError();
    }
    if (!res.ok) throw await toApiError(res);
    if (res.status === 204) return undefined as T;
    const type = res.headers.get("Content-Type") ?? "";
    if (type.includes("application/json")) return (await res.json()) as T;
    return (await res.blob()) as T;
  }

  /**
   * upload posts a multipart form and reports progress (fetch cannot), with
   * the same error shape and one token renewal on 401 as request.
   */
  async upload<T>(path: string, form: FormData, onProgress: UploadProgress = () => {}, retry = true): Promise<T> {
    const res = await new Promise<{ status: number; body: string; retryAfter: string | null }>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.base + path);
      xhr.withCredentials = true;
      if (this.token) xhr.setRequestHeader("Authorization", "Bearer " + this.token);
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.total);
      xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText, retryAfter: xhr.getResponseHeader("Retry-After") });
      xhr.onerror = () => reject(networkError());
      xhr.onabort = () => reject(networkError());
      xhr.send(form);
    });
    if (res.status === 401 && retry) {
      const outcome = await this.renew();
      if (outcome === "renewed") return this.upload<T>(path, form, onProgress, false);
      if (outcome === "unavailable") throw unavailableError();
    }
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (res.retryAfter) headers["Retry-After"] = res.retryAfter;
    const response = new Response(res.body || null, { status: res.status, headers });
    if (res.status < 200 || res.status >= 300) throw await toApiError(response);
    return (await response.json()) as T;
  }

  get<T>(path: string) {
    return this.request<T>("GET", path);
  }
  post<T>(path: string, body?: unknown) {
    return this.request<T>("POST", path, body ?? {});
  }
  put<T>(path: string, body: unknown) {
    return this.request<T>("PUT", path, body);
  }
  patch<T>(path: string, body: unknown) {
    return this.request<T>("PATCH", path, body);
  }
  del<T>(path: string) {
    return this.request<T>("DELETE", path);
  }
}

export const http = new Http();
