// The main path on desktop: a doctor and a new patient, booking, chat,
// a video call, a diagnosis. Leaves ctx.patient, ctx.doctor (pages),
// ctx.patientAccount and ctx.roomURL for the suites after it.
import { join } from "node:path";
import { axe, soft, step } from "./lib.mjs";

export async function run(ctx) {
  const { browser, base, shots, STEP } = ctx;
  const ctxOpts = { viewport: { width: 1200, height: 860 }, locale: "en-US", permissions: ["camera", "microphone"] };
  const patientCtx = await browser.newContext({ ...ctxOpts, timezoneId: "America/New_York" });
  const doctorCtx = await browser.newContext({ ...ctxOpts, timezoneId: "Europe/Berlin" });
  const patient = await patientCtx.newPage();
  const doctor = await doctorCtx.newPage();
  for (const p of [patient, doctor]) {
    p.setDefaultTimeout(STEP);
    p.on("dialog", (d) => void d.accept());
  }
  const name = "Robin E2E " + Math.random().toString(36).slice(2, 7);
  const email = `robin.${Date.now()}@example.com`;
  const password = "a-good-password-1";
  Object.assign(ctx, { patient, doctor, patientCtx, doctorCtx, patientAccount: { name, email, password } });

  await step("doctor signs in and sees the day's agenda", async () => {
    await doctor.goto(base + "/login");
    await soft("axe: sign-in page has no serious or critical violations", () => axe(doctor, "login"));
    await doctor.fill("input[name=email]", "alice.chen@demo.teleconsult.app");
    await doctor.fill("input[name=password]", "DemoDoctor!2026");
    await doctor.click("button[type=submit]");
    await doctor.waitForURL("**/appointments");
    await doctor.waitForSelector("[data-testid=connection]:has-text('Connected')");
    await doctor.waitForSelector("[data-testid=agenda-day]");
    if ((await doctor.title()) !== "My day · Teleconsult") throw new Error("document title: " + (await doctor.title()));
  });

  await step("registration shows the server's field errors next to their fields", async () => {
    await patient.goto(base + "/register");
    await patient.fill("input[name=name]", name);
    await patient.fill("input[name=email]", email);
    await patient.fill("input[name=password]", "short");
    await patient.click("button[type=submit]");
    const msg = await patient.locator("[data-testid=err-password]").innerText();
    if (!/at least 10 characters/.test(msg)) throw new Error("password error: " + msg);
    if ((await patient.inputValue("input[name=name]")) !== name) throw new Error("the typed name was lost");
  });

  await step("patient registers", async () => {
    await patient.fill("input[name=password]", password);
    await patient.click("button[type=submit]");
    await patient.waitForURL("**/doctors");
  });

  await step("patient finds the doctor and books a free slot with the keyboard", async () => {
    await patient.fill("input[name=q]", "Alice");
    const card = patient.locator(".doctor", { hasText: "Alice Chen" });
    await card.waitFor();
    await soft("axe: doctor search has no serious or critical violations", () => axe(patient, "doctors"));
    await patient.screenshot({ path: join(shots, "doctors.png") });
    await card.getByRole("link").click();
    await patient.locator(".slot").first().waitFor();
    // The zone is named by city and offset.
    const zone = await patient.locator("[data-testid=zone]").innerText();
    if (!/New York \(UTC−[45]\)/.test(zone)) throw new Error("zone label: " + zone);
    // One tab stop for all the times, arrows to move.
    const tabbable = await patient.locator(".slot[tabindex='0']").count();
    if (tabbable !== 1) throw new Error(`${tabbable} times are in the tab order, want 1`);
    await patient.locator(".slot").first().focus();
    await patient.keyboard.press("ArrowRight");
    const focused = await patient.evaluate(() => document.activeElement?.dataset.cell);
    if (focused !== "0-1") throw new Error("ArrowRight moved focus to " + focused);
    await patient.keyboard.press("ArrowLeft");
    await patient.keyboard.press("Enter");
    await patient.waitForSelector("[data-testid=booking]");
    await soft("axe: booking page has no serious or critical violations", () => axe(patient, "doctor"));
    await patient.fill("textarea[name=reason]", "Chest tightness after exercise");
    await patient.screenshot({ path: join(shots, "slots.png") });
    await patient.click("[data-testid=book]");
    await patient.waitForSelector("[data-testid=booked]");
  });

  await step("the doctor sees the booking live", async () => {
    const row = doctor.locator("[data-testid=agenda] .slotline, [data-testid=upcoming] .appt", { hasText: name });
    await row.waitFor();
    await doctor.waitForSelector("[data-testid=unread]");
    await soft("axe: doctor's agenda has no serious or critical violations", () => axe(doctor, "agenda"));
    await doctor.screenshot({ path: join(shots, "doctor-appointments.png") });
    await row.getByRole("button", { name: "Start consultation" }).click();
    await doctor.waitForURL("**/appointments/*");
  });
  ctx.roomURL = doctor.url();
  ctx.roomId = ctx.roomURL.split("/").pop();

  await step("the room shows the doctor the visit reason", async () => {
    await doctor.waitForSelector("[data-testid=visit-reason]:has-text('Chest tightness after exercise')");
  });

  await step("the patient opens the consultation room", async () => {
    await patient.goto(base + "/appointments");
    await patient.locator("[data-testid=upcoming] .appt", { hasText: "Alice Chen" }).getByRole("link", { name: "Open room" }).click();
    await patient.waitForURL(ctx.roomURL);
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
    await patient.waitForSelector("[data-testid=day-sep]:has-text('Today')");
    await soft("axe: consultation room has no serious or critical violations", () => axe(patient, "room"));
    await patient.screenshot({ path: join(shots, "room-chat.png") });
  });

  await step("reloading mid-chat restores the history", async () => {
    await patient.reload();
    await patient.waitForSelector(".msg:has-text('How are you feeling?')");
    await patient.waitForSelector(".msg:has-text('A bit tired')");
  });

  await step("a video call connects both pages with remote video playing", async () => {
    await patient.click("[data-testid=call-video]");
    // The device check comes first: a preview and a microphone level.
    await patient.waitForSelector("[data-testid=precall] [data-testid=preview-video]");
    await patient.waitForFunction(() => document.querySelector("[data-testid=preview-video]")?.readyState >= 2);
    await patient.click("[data-testid=precall-start]");
    await doctor.click("[data-testid=incoming-call] [data-testid=accept]");
    for (const p of [patient, doctor]) {
      await p.waitForSelector("[data-testid=call][data-peer-state=connected]");
      await p.waitForFunction(() => {
        const v = document.querySelector("[data-testid=remote-video]");
        return v && v.readyState >= 2 && v.videoWidth > 0 && !v.paused && v.currentTime > 0;
      });
    }
    await soft("axe: a consultation room in a call has no serious or critical violations", () => axe(doctor, "room in a call"));
    await doctor.screenshot({ path: join(shots, "video-call.png") });
    await patient.click("[data-testid=hangup]");
    await doctor.waitForSelector("[data-testid=call-ended][data-reason=ended]");
    await patient.waitForSelector("[data-testid=call]", { state: "detached" });
  });

  await step("the call and the start are recorded in the chat, in words", async () => {
    for (const p of [patient, doctor]) {
      await p.waitForSelector("[data-testid=call-message][data-outcome=completed]:has-text('Video call · 0:')");
      await p.waitForSelector(".sys-note:has-text('Consultation started')");
    }
  });

  await step("the doctor saves a diagnosis, is told so, and the patient's bell shows it", async () => {
    await doctor.fill("textarea[name=summary]", "Exercise-induced asthma is likely. Use the inhaler before exercise.");
    await doctor.click("[data-testid=save-diagnosis]");
    await doctor.waitForSelector("[data-testid=diagnosis-saved]");
    await patient.waitForSelector("[data-testid=unread]");
    await patient.click("[data-testid=bell]");
    await patient.waitForSelector(".note[data-kind=diagnosis_ready]");
    await patient.screenshot({ path: join(shots, "diagnosis-bell.png") });
    // The menu closes on Esc and on a click outside.
    await patient.keyboard.press("Escape");
    await patient.waitForSelector("[data-testid=bell-menu]", { state: "detached" });
    await patient.click("[data-testid=bell]");
    await patient.waitForSelector("[data-testid=bell-menu]");
    await patient.mouse.click(5, 400);
    await patient.waitForSelector("[data-testid=bell-menu]", { state: "detached" });
  });
}
