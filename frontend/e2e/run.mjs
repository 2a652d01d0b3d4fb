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
// main screen at 390×844, with axe-core on each).
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
const server = spawn(bin, ["serve"], {
  cwd: repo,
  env: {
    ...process.env,
    ADDR: `127.0.0.1:${port}`,
    DATABASE_URL: "",
    REDIS_URL: "",
    DATA_DIR: join(tmp, "data"),
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
  },
  stdio: ["ignore", "pipe", "pipe"],
});
// The server's log, kept for the suites (the mail with a reset link); its
// warnings and errors, and anything that is not a JSON log line, are printed.
const serverLines = [];
for (const stream of [server.stdout, server.stderr]) {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop();
    for (const line of lines) {
      serverLines.push(line);
      if (serverLines.length > 20000) serverLines.splice(0, 5000);
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
const serverLog = () => serverLines.join("\n");
let browser;
const deadline = setTimeout(() => {
  console.error("the end-to-end run took over 7 minutes");
  cleanup(1);
}, 420_000);

function cleanup(code) {
  clearTimeout(deadline);
  Promise.resolve(browser?.close())
    .catch(() => {})
    .finally(() => {
      server.kill("SIGTERM");
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
  console.log(`browser suites took ${Math.round((Date.now() - t0) / 1000)} s`);
}

run()
  .then(() => cleanup())
  .catch(() => cleanup(1));
