// Helpers of the admin and account suites: REST clients for any method,
// new patients, bookings, chat messages sent over the socket, and mails
// read from the server's log.
import { io } from "socket.io-client";

export const ADMIN = { email: "admin@demo.teleconsult.app", password: "DemoAdmin!2026" };
export const ALICE = { email: "alice.chen@demo.teleconsult.app", password: "DemoDoctor!2026" };

/** client signs in over REST and calls any endpoint; fail:false returns {status, body} instead of throwing. */
export async function client(base, email, password) {
  const r = await fetch(base + "/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }) });
  if (!r.ok) throw new Error(`sign-in of ${email} failed: ${r.status}`);
  const session = await r.json();
  const raw = async (method, path, body) => {
    const res = await fetch(base + "/api/v1" + path, {
      method,
      headers: { Authorization: "Bearer " + session.access_token, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, body: json };
  };
  const call = async (method, path, body) => {
    const r = await raw(method, path, body);
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  return {
    session,
    user: session.user,
    token: session.access_token,
    raw,
    get: (p) => call("GET", p),
    post: (p, b) => call("POST", p, b ?? {}),
    patch: (p, b) => call("PATCH", p, b),
    del: (p) => call("DELETE", p),
  };
}

/** newPatient registers a patient with a unique email and signs them in over REST. */
export async function newPatient(base, tag) {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const account = { name: `${tag} ${id}`, email: `${tag.toLowerCase().replace(/\W+/g, ".")}.${id}@example.com`, password: "a-good-password-" + id };
  const r = await fetch(base + "/api/v1/auth/register", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...account, time_zone: "Europe/London" }),
  });
  if (r.status !== 201) throw new Error(`registering ${account.email}: ${r.status} ${await r.text()}`);
  return { account, api: await client(base, account.email, account.password) };
}

/** book takes one of a doctor's free slots, days ahead (spread so that suites do not collide). */
export async function book(patientApi, doctorId, daysAhead, reason) {
  const from = new Date(Date.now() + daysAhead * 86400e3 + Math.floor(Math.random() * 12) * 3600e3);
  const to = new Date(from.getTime() + 2 * 86400e3);
  const slots = await patientApi.get(`/doctors/${doctorId}/slots?from=${from.toISOString()}&to=${to.toISOString()}`);
  if (!slots.items.length) throw new Error("no free slot for the test booking");
  const pick = slots.items[Math.floor(Math.random() * Math.min(10, slots.items.length))];
  return patientApi.post("/appointments", { doctor_id: doctorId, starts_at: pick.starts_at, reason });
}

/** say sends chat messages (and call events) into an appointment's room over the socket, as the contract's clients do. */
export async function say(base, token, appointmentId, texts) {
  const socket = io(base, { auth: { token }, transports: ["websocket"], reconnection: false });
  const ack = (event, payload) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(event + ": no answer")), 10_000);
      socket.emit(event, payload, (r) => {
        clearTimeout(timer);
        r && r.ok ? resolve(r) : reject(new Error(`${event}: ${JSON.stringify(r)}`));
      });
    });
  try {
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    await ack("consultation:join", { appointment_id: appointmentId });
    for (const item of texts) {
      // A string is a chat message; {event, data} any other event of the room (a call).
      if (typeof item === "string") await ack("chat:send", { appointment_id: appointmentId, client_msg_id: `e2e-${Date.now()}-${Math.random()}`, text: item });
      else await ack(item.event, { appointment_id: appointmentId, ...(item.data ?? {}) });
    }
  } finally {
    socket.close();
  }
}

/** resetToken waits for the server to log a mail to `to` with a reset link, and returns the link's token. */
export async function resetToken(serverLog, to, after = 0, ms = 15_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const lines = serverLog().split("\n").slice(after);
    for (const line of lines.reverse()) {
      if (!line.includes(to) || !line.includes("reset-password?token=")) continue;
      const m = /reset-password\?token=([A-Za-z0-9_\-.~%]+)/.exec(line);
      if (m) return decodeURIComponent(m[1]);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail with a reset link to ${to} in the server's log`);
}

/** logLength is where the server's log is now (to read only what comes after). */
export function logLength(serverLog) {
  return serverLog().split("\n").length - 1;
}
