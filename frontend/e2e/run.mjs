// End-to-end: the real Go server (built from this repository, on its
// embedded SQLite database with the demo data) and the built web app,
// driven in Debian's Chromium with fake camera and microphone.
//
//   npm run build && npm run test:e2e
//
// The suites run in order on one server and one browser: journey.mjs (the
// main path: register, book, chat, call, diagnose), calls.mjs (a call
// ringing on another screen, surviving navigation and a reload, declined
// and missed calls, unread badges), chat.mjs (offline,
// outbox, long text, links, images), desk.mjs (the doctor's day, start
// window, time off over bookings, schedule errors) and phone.mjs (every
// main screen at 390×844, with axe-core on each). payments.mjs runs last,
// against a second server with online payments on (Stripe, answered by a
// local stripe-mock that this script starts and stops).
//
// Prints one line per check and "N passed, M failed"; exits 1 on a failure.
// Screenshots of the key screens go to frontend/e2e/artifacts/ (ignored);
// SCREENSHOTS_DIR=docs/screenshots (`make screenshots`) refreshes the README's.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import { chromium } from "playwright-core";
import { results } from "./lib.mjs";
import * as journey from "./journey.mjs";
import * as chat from "./chat.mjs";
import * as calls from "./calls.mjs";
import * as desk from "./desk.mjs";
import * as phone from "./phone.mjs";
import * as admin from "./admin.mjs";
import * as account from "./account.mjs";
import * as payments from "./payments.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, "..");
const repo = resolve(web, "..");
const shots = process.env.SCREENSHOTS_DIR ? resolve(repo, process.env.SCREENSHOTS_DIR) : join(here, "artifacts");
mkdirSync(shots, { recursive: true });
const chromePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const STEP = 25_000;


function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

async function waitHealthy(base, ms = 30_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const r = await fetch(base + "/healthz");
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the server did not become healthy in 30 s");
}

if (!existsSync(join(web, "dist", "index.html"))) {
  console.error("frontend/dist is missing: run `npm run build` first (make test does).");
  process.exit(1);
}
if (!existsSync(chromePath)) {
  console.error(`Chromium not found at ${chromePath}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), "teleconsult-e2e-"));
const bin = join(tmp, "teleconsult");
execFileSync("go", ["build", "-o", bin, "./cmd/teleconsult"], { cwd: repo, stdio: "inherit" });
const port = await freePort();
const base = `http://127.0.0.1:${port}`;

/** serverEnv is the environment of a test server on a port, with its own data. */
function serverEnv(port, dataDir, extra = {}) {
  const base = `http://127.0.0.1:${port}`;
  return {
    ...process.env,
    ADDR: `127.0.0.1:${port}`,
    DATABASE_URL: "",
    REDIS_URL: "",
    DATA_DIR: dataDir,
    SEED_DEMO: "true",
    WEB_DIR: join(web, "dist"),
    JWT_SECRET: "e2e-secret-e2e-secret-e2e-secret-0123456789",
    APPOINTMENT_START_EARLY: "48h",
    // Info, so that mails (written to the log without SMTP_URL) can be read
    // by the suites; only warnings and errors are printed (see serverLog).
    LOG_LEVEL: "info",
    PUBLIC_URL: base,
    // A short ring, so that the missed-call check does not wait 45 s.
    CALL_RING_TIMEOUT: "6s",
    // A reload rejoins well within this; a shorter grace keeps an earlier
    // disconnect from reaching into the later checks.
    CALL_DISCONNECT_GRACE: "8s",
    ...extra,
  };
}

/**
 * startServer runs the server with env. Its log is kept (the mail with a
 * reset link); its warnings and errors, and anything that is not a JSON
 * log line, are printed.
 */
function startServer(env) {
  const proc = spawn(bin, ["serve"], { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] });
  const lines = [];
  for (const stream of [proc.stdout, proc.stderr]) {
    let rest = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      const got = (rest + chunk).split("\n");
      rest = got.pop();
      for (const line of got) {
        lines.push(line);
        if (lines.length > 20000) lines.splice(0, 5000);
        let level = "";
        try {
          level = JSON.parse(line).level ?? "";
        } catch {
          level = "WARN";
        }
        if (level !== "INFO" && level !== "DEBUG" && line.trim()) process.stderr.write(line + "\n");
      }
    });
  }
  return { proc, log: () => lines.join("\n") };
}

const main = startServer(serverEnv(port, join(tmp, "data")));
const server = main.proc;
const serverLog = main.log;

/** The payments suite's processes: stripe-mock and a second server (started only for that suite). */
const payProcs = { mock: null, server: null };

/**
 * startStripeMock runs stripe-mock (installed by `make tools` when it is
 * missing) on a free loopback port, read from its first lines.
 */
async function startStripeMock() {
  // `make tools` installs the pinned version when it is missing.
  execFileSync("make", ["tools"], { cwd: repo, stdio: "inherit" });
  const gopath = execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim().split(":")[0];
  const installed = join(gopath, "bin", "stripe-mock");
  const mockBin = existsSync(installed) ? installed : "stripe-mock";
  const proc = spawn(mockBin, ["-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
  payProcs.mock = proc;
  const mockPort = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("stripe-mock did not say its port in 20 s")), 20_000);
    let seen = "";
    const read = (chunk) => {
      seen += chunk;
      const m = /Listening for HTTP at address: 127\.0\.0\.1:(\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout.setEncoding("utf8").on("data", read);
    proc.stderr.setEncoding("utf8").on("data", read);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`stripe-mock exited (${code}): ${seen.slice(-300)}`));
    });
  });
  return mockPort;
}

/** startPaymentsServer runs a second server with online payments on, against stripe-mock. */
async function startPaymentsServer() {
  const mockPort = await startStripeMock();
  const payPort = await freePort();
  const s = startServer(
    serverEnv(payPort, join(tmp, "data-payments"), {
      PAYMENT_PROVIDER: "stripe",
      STRIPE_SECRET_KEY: "sk_test_e2e",
      STRIPE_WEBHOOK_SECRET: "whsec_e2e_secret",
      // A key is configured: the card form is offered, and Stripe.js (which
      // cannot load in the test browser) is what is missing.
      STRIPE_PUBLISHABLE_KEY: "pk_test_e2e",
      STRIPE_API_BASE: `http://127.0.0.1:${mockPort}`,
      PAYMENT_HOLD: "15m",
    }),
  );
  payProcs.server = s.proc;
  const payBase = `http://127.0.0.1:${payPort}`;
  await waitHealthy(payBase);
  return { base: payBase, serverLog: s.log, webhookSecret: "whsec_e2e_secret" };
}

/** stop ends a process this script started, by its PID. */
function stop(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode) return;
  try {
    process.kill(proc.pid, "SIGTERM");
  } catch {
    /* gone already */
  }
}
let browser;
const deadline = setTimeout(() => {
  console.error("the end-to-end run took over 9 minutes");
  cleanup(1);
}, 540_000);

// Whatever ends this script, the processes it started end with it.
process.on("exit", () => [server, payProcs.server, payProcs.mock].forEach(stop));

function cleanup(code) {
  clearTimeout(deadline);
  Promise.resolve(browser?.close())
    .catch(() => {})
    .finally(() => {
      stop(server);
      stop(payProcs.server);
      stop(payProcs.mock);
      rmSync(tmp, { recursive: true, force: true });
      console.log(`${results.passed} passed, ${results.failed} failed`);
      process.exit(code ?? (results.failed ? 1 : 0));
    });
}


async function run() {
  await waitHealthy(base);
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: chromePath,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
    ],
  });
  const t0 = Date.now();
  const ctx = { browser, base, shots, STEP, serverLog };
  // E2E_ONLY=journey,calls runs some suites (each needs the ones before it).
  const all = { journey, calls, chat, desk, phone, admin, account };
  const only = process.env.E2E_ONLY ? new Set(process.env.E2E_ONLY.split(",")) : null;
  for (const [name, suite] of Object.entries(all)) {
    if (only && !only.has(name)) continue;
    await suite.run(ctx);
  }
  // Online payments, on their own server (payments on, Stripe answered by stripe-mock).
  if (!only || only.has("payments")) {
    const pay = await startPaymentsServer();
    await payments.run({ browser, shots, STEP, ...pay });
  }
  console.log(`browser suites took ${Math.round((Date.now() - t0) / 1000)} s`);
}

run()
  .then(() => cleanup())
  .catch(() => cleanup(1));
