// The REST client: JSON in and out, the contract's error shape turned into
// ApiError, and a silent refresh of the access token on 401 (one refresh in
// flight at a time; every waiting request retries once with the new token).

export interface ErrorBody {
  error?: { code?: string; message?: string; details?: Record<string, unknown> };
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** Field problems from details.fields, for forms. */
  get fields(): Record<string, string> {
    const f = this.details?.fields;
    return f && typeof f === "object" ? (f as Record<string, string>) : {};
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
  return new ApiError(res.status, e.code ?? "http_" + res.status, e.message ?? res.statusText, e.details ?? {});
}

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
  doctor?: { specialty: string; bio: string } | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

type Fetch = typeof fetch;

/** Http keeps the access token and knows how to renew it. */
export class Http {
  private token = "";
  private refreshing: Promise<boolean> | null = null;
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
   * refresh trades the refresh cookie (HttpOnly, never visible to scripts)
   * for a new pair. Concurrent callers share one request.
   */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = (async () => {
        try {
          const res = await this.fetcher(this.base + "/auth/refresh", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            credentials: "same-origin",
            body: "{}",
          });
          if (!res.ok) {
            this.token = "";
            this.onSession(null);
            return false;
          }
          const s = (await res.json()) as Session;
          this.token = s.access_token;
          this.onSession(s);
          return true;
        } catch {
          return false;
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
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
    const res = await this.fetcher(this.base + path, { method, headers, body: payload, credentials: "same-origin" });
    if (res.status === 401 && retry && !path.startsWith("/auth/")) {
      if (await this.refresh()) return this.request<T>(method, path, body, false);
    }
    if (!res.ok) throw await toApiError(res);
    if (res.status === 204) return undefined as T;
    const type = res.headers.get("Content-Type") ?? "";
    if (type.includes("application/json")) return (await res.json()) as T;
    return (await res.blob()) as T;
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
