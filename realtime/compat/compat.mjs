// Drives the server with the official socket.io-client: connect with auth
// over WebSocket and over polling-then-upgrade, join, send, receive, ack.
// Usage: node compat.mjs <base-url> <patient-token> <doctor-token> <appointment-id>
// Prints one line per check and "N passed, M failed"; exits 1 on a failure.
import { io } from "socket.io-client";

const [base, patientToken, doctorToken, appointmentId] = process.argv.slice(2);
let passed = 0;
let failed = 0;

function check(name, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ": " + detail : ""}`);
}

function connect(token, opts) {
  return new Promise((resolve, reject) => {
    const s = io(base, { auth: { token }, reconnection: false, forceNew: true, timeout: 5000, ...opts });
    const timer = setTimeout(() => reject(new Error("connect timeout")), 8000);
    s.on("connect", () => { clearTimeout(timer); resolve(s); });
    s.on("connect_error", (err) => { clearTimeout(timer); s.close(); reject(err); });
  });
}

function waitFor(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event}`)), ms);
    socket.once(event, (payload) => { clearTimeout(timer); resolve(payload); });
  });
}

function upgraded(socket, ms = 15000) { // generous: CI runs many suites at once
  return new Promise((resolve) => {
    if (socket.io.engine.transport.name === "websocket") return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.io.engine.once("upgrade", () => { clearTimeout(timer); resolve(true); });
  });
}

async function run() {
  try {
    await connect("forged.token.value", { transports: ["websocket"] });
    check("refuses a bad token", false, "connected");
  } catch (err) {
    check("refuses a bad token", err.message === "unauthorized", err.message);
  }

  const doctor = await connect(doctorToken, { transports: ["websocket"] });
  check("connects over WebSocket", doctor.io.engine.transport.name === "websocket");
  const patient = await connect(patientToken, { transports: ["polling", "websocket"] });
  check("connects over polling", true);
  check("upgrades polling to WebSocket", await upgraded(patient));

  const join = await doctor.timeout(5000).emitWithAck("consultation:join", { appointment_id: appointmentId });
  check("doctor joins", join.ok === true && Array.isArray(join.members), JSON.stringify(join).slice(0, 200));
  const pjoin = await patient.timeout(5000).emitWithAck("consultation:join", { appointment_id: appointmentId });
  check("patient joins", pjoin.ok === true, JSON.stringify(pjoin).slice(0, 200));

  const incoming = waitFor(doctor, "chat:message");
  const sent = await patient.timeout(5000).emitWithAck("chat:send", {
    appointment_id: appointmentId, client_msg_id: "compat-1", text: "Hello from socket.io-client",
  });
  check("send is acked with the stored message", sent.ok === true && sent.message.seq >= 1, JSON.stringify(sent).slice(0, 200));
  const got = await incoming;
  check("the other member receives it", got.id === sent.message.id && got.text === "Hello from socket.io-client");

  const bad = await patient.timeout(5000).emitWithAck("chat:send", "not an object");
  check("bad payload acks invalid_request", bad.ok === false && bad.error.code === "invalid_request");
  check("still connected after bad payload", patient.connected);

  const sync = await doctor.timeout(5000).emitWithAck("chat:sync", { appointment_id: appointmentId, after_seq: 0 });
  check("sync returns the message", sync.ok === true && sync.messages.some((m) => m.id === sent.message.id));

  // Connection state recovery: a dropped transport comes back with its
  // rooms and the events it missed.
  const away = io(base, { auth: { token: doctorToken }, transports: ["websocket"], forceNew: true,
    reconnectionDelay: 100, reconnectionDelayMax: 200 });
  await waitFor(away, "connect");
  await away.timeout(5000).emitWithAck("consultation:join", { appointment_id: appointmentId });
  const first = waitFor(away, "chat:message");
  await patient.timeout(5000).emitWithAck("chat:send", { appointment_id: appointmentId, client_msg_id: "compat-2", text: "before the blip" });
  await first;
  const missed = [];
  away.on("chat:message", (m) => missed.push(m.text));
  const back = waitFor(away, "connect", 10000);
  away.io.engine.close(); // the network drops; the client reconnects by itself
  await patient.timeout(5000).emitWithAck("chat:send", { appointment_id: appointmentId, client_msg_id: "compat-3", text: "during the blip" });
  await back;
  check("a dropped connection is recovered", away.recovered === true);
  const after = waitFor(away, "chat:message");
  await patient.timeout(5000).emitWithAck("chat:send", { appointment_id: appointmentId, client_msg_id: "compat-4", text: "after the blip" });
  await after;
  check("the recovered socket got what it missed, once, and is still in the room",
    JSON.stringify(missed) === JSON.stringify(["during the blip", "after the blip"]), JSON.stringify(missed));
  away.close();

  doctor.close();
  patient.close();
}

try {
  await run();
} catch (err) {
  check("run", false, err.stack || String(err));
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
