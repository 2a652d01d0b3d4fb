// End-to-end: the real Go server (built from this repository, on its
// embedded SQLite database with the demo data) and the built web app,
// driven in Debian's Chromium with fake camera and microphone.
//
//   npm run build && npm run test:e2e
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

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, "..");
const repo = resolve(web, "..");
const shots = process.env.SCREENSHOTS_DIR ? resolve(repo, process.env.SCREENSHOTS_DIR) : join(here, "artifacts");
mkdirSync(shots, { recursive: true });
const chromePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const STEP = 25_000;

let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  ok ? passed++ : failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ": " + detail : ""}`);
}

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
    LOG_LEVEL: "warn",
  },
  stdio: ["ignore", "inherit", "inherit"],
});
let browser;
const deadline = setTimeout(() => {
  console.error("the end-to-end run took over 4 minutes");
  cleanup(1);
}, 240_000);

function cleanup(code) {
  clearTimeout(deadline);
  Promise.resolve(browser?.close())
    .catch(() => {})
    .finally(() => {
      server.kill("SIGTERM");
      rmSync(tmp, { recursive: true, force: true });
      console.log(`${passed} passed, ${failed} failed`);
      process.exit(code ?? (failed ? 1 : 0));
    });
}

async function step(name, fn) {
  try {
    await fn();
    check(name, true);
  } catch (err) {
    check(name, false, (err && err.message ? err.message : String(err)).split("\n")[0]);
    throw err;
  }
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
  const ctxOpts = { viewport: { width: 1200, height: 860 }, locale: "en-US", permissions: ["camera", "microphone"] };
  const patientCtx = await browser.newContext({ ...ctxOpts, timezoneId: "America/New_York" });
  const doctorCtx = await browser.newContext({ ...ctxOpts, timezoneId: "Europe/Berlin" });
  const patient = await patientCtx.newPage();
  const doctor = await doctorCtx.newPage();
  for (const p of [patient, doctor]) p.setDefaultTimeout(STEP);
  const name = "Robin E2E " + Math.random().toString(36).slice(2, 7);
  const email = `robin.${Date.now()}@example.com`;

  await step("doctor signs in and sees the appointments page", async () => {
    await doctor.goto(base + "/login");
    await doctor.fill("input[name=email]", "alice.chen@demo.teleconsult.app");
    await doctor.fill("input[name=password]", "DemoDoctor!2026");
    await doctor.click("button[type=submit]");
    await doctor.waitForURL("**/appointments");
    await doctor.waitForSelector("[data-testid=connection]:has-text('Connected')");
  });

  await step("patient registers", async () => {
    await patient.goto(base + "/register");
    await patient.fill("input[name=name]", name);
    await patient.fill("input[name=email]", email);
    await patient.fill("input[name=password]", "a-good-password-1");
    await patient.click("button[type=submit]");
    await patient.waitForURL("**/doctors");
  });

  await step("patient finds the doctor and books a free slot", async () => {
    await patient.fill("input[name=q]", "Alice");
    const card = patient.locator(".doctor", { hasText: "Alice Chen" });
    await card.waitFor();
    await patient.screenshot({ path: join(shots, "doctors.png") });
    await card.getByRole("link").click();
    await patient.locator(".slot").first().click();
    await patient.fill("textarea[name=reason]", "Chest tightness after exercise");
    await patient.screenshot({ path: join(shots, "slots.png") });
    await patient.click("[data-testid=book]");
    await patient.waitForSelector("[data-testid=booked]");
  });

  await step("the doctor sees the booking live", async () => {
    const row = doctor.locator("[data-testid=agenda] .slotline, [data-testid=upcoming] .appt", { hasText: name });
    await row.waitFor();
    await doctor.waitForSelector("[data-testid=unread]");
    await doctor.screenshot({ path: join(shots, "doctor-appointments.png") });
    await row.getByRole("button", { name: "Start consultation" }).click();
    await doctor.waitForURL("**/appointments/*");
  });
  const roomURL = doctor.url();

  await step("the patient opens the consultation room", async () => {
    await patient.goto(base + "/appointments");
    await patient.locator("[data-testid=upcoming] .appt", { hasText: "Alice Chen" }).getByRole("link", { name: "Open room" }).click();
    await patient.waitForURL(roomURL);
    await patient.waitForSelector("[data-testid=status]:has-text('In progress')");
    await doctor.waitForSelector(`.members li[data-online=true]:has-text("${name}")`);
  });

  await step("they chat both ways, with typing and read receipts", async () => {
    await doctor.click("[data-testid=composer]");
    await doctor.keyboard.type("Hello, I'm Dr. Chen. ");
    await patient.waitForSelector("[data-testid=typing]:has-text('is typing')");
    await doctor.keyboard.type("How are you feeling?");
    await doctor.click("[data-testid=send]");
    await patient.waitForSelector(".msg:has-text('How are you feeling?')");
    await patient.fill("[data-testid=composer]", "A bit tired, <b>thanks</b> for asking.");
    await patient.click("[data-testid=send]");
    await doctor.waitForSelector(".msg:has-text('A bit tired')");
    // Text stays text: the markup is shown, not rendered.
    const shown = await doctor.locator(".msg:has-text('A bit tired') .text").innerText();
    if (!shown.includes("<b>thanks</b>")) throw new Error("message text was rendered as HTML: " + shown);
    await patient.waitForSelector(".msg.mine:has-text('A bit tired') [data-testid=read-receipt]");
    await patient.screenshot({ path: join(shots, "room-chat.png") });
  });

  await step("reloading mid-chat restores the history", async () => {
    await patient.reload();
    await patient.waitForSelector(".msg:has-text('How are you feeling?')");
    await patient.waitForSelector(".msg:has-text('A bit tired')");
  });

  await step("a video call connects both pages with remote video playing", async () => {
    await patient.click("[data-testid=call-video]");
    await doctor.click("[data-testid=accept]");
    for (const p of [patient, doctor]) {
      await p.waitForSelector("[data-testid=call][data-peer-state=connected]");
      await p.waitForFunction(() => {
        const v = document.querySelector("[data-testid=remote-video]");
        return v && v.readyState >= 2 && v.videoWidth > 0 && !v.paused && v.currentTime > 0;
      });
    }
    await doctor.screenshot({ path: join(shots, "video-call.png") });
    await patient.click("[data-testid=hangup]");
    await doctor.waitForSelector("[data-testid=call][data-phase=idle]");
  });

  await step("the doctor writes a diagnosis and the patient's bell shows it", async () => {
    await doctor.fill("textarea[name=summary]", "Exercise-induced asthma is likely. Use the inhaler before exercise.");
    await doctor.click("[data-testid=save-diagnosis]");
    await patient.waitForSelector("[data-testid=unread]");
    await patient.click("[data-testid=bell]");
    await patient.waitForSelector(".note[data-kind=diagnosis_ready]");
    await patient.screenshot({ path: join(shots, "diagnosis-bell.png") });
  });

  await step("the phone-width layout keeps the room usable", async () => {
    await patient.setViewportSize({ width: 390, height: 800 });
    await patient.keyboard.press("Escape");
    await patient.goto(roomURL);
    await patient.waitForSelector("[data-testid=composer]");
    await patient.screenshot({ path: join(shots, "room-phone.png") });
  });
}

run()
  .then(() => cleanup())
  .catch(() => cleanup(1));
