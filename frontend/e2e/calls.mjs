// Calls and unread messages across screens: a call rings wherever the
// callee is (and stops on their other screens once answered), is accepted
// from there, shows the other side's mute and camera, survives opening
// another screen and a reload; declined and unanswered calls are said so
// and recorded in the chat; a message for a room that is not open shows
// as an unread badge, in the title and in the navigation, and clears when
// the room is read.
import { join } from "node:path";
import { step } from "./lib.mjs";

const playing = () => {
  const v = document.querySelector("[data-testid=remote-video]");
  const track = v?.srcObject?.getVideoTracks?.()[0];
  return !!v && v.readyState >= 2 && v.videoWidth > 0 && !v.paused && v.currentTime > 0 && track?.readyState === "live";
};

/** connected waits until a page shows a connected call with the other side's video playing. */
async function connected(page, timeout) {
  await page.waitForSelector("[data-testid=call][data-peer-state=connected][data-phase=active]", { timeout });
  await page.waitForFunction(playing, null, { timeout });
  // Frames keep coming (not a frozen picture).
  const t0 = await page.evaluate(() => document.querySelector("[data-testid=remote-video]").currentTime);
  await page.waitForFunction((t) => document.querySelector("[data-testid=remote-video]").currentTime > t + 0.2, t0, { timeout });
}

async function startCall(page, media = "video") {
  await page.click(`[data-testid=call-${media}]`);
  await page.click("[data-testid=precall-start]");
  await page.waitForSelector("[data-testid=call][data-phase=outgoing]");
}

export async function run(ctx) {
  const { base, shots, patient, doctor, doctorCtx, roomURL, roomId } = ctx;
  const patientName = ctx.patientAccount.name;

  await step("a call rings on another screen of the callee and stops there once answered on one", async () => {
    await doctor.goto(base + "/appointments");
    await doctor.waitForSelector("[data-testid=agenda-day]");
    const second = await doctorCtx.newPage();
    ctx.doctorSecond = second;
      await second.goto(base + "/doctors");
    await second.waitForSelector("[data-testid=connection]:has-text('Connected')");
    await patient.goto(roomURL);
    await patient.waitForSelector("[data-testid=connection]:has-text('Connected')");
    await patient.waitForSelector(".members li");
    await startCall(patient);
    for (const p of [doctor, second]) {
      const ring = p.locator("[data-testid=incoming-call]");
      await ring.waitFor();
      const text = await ring.innerText();
      if (!text.includes(patientName) || !/video call/i.test(text)) throw new Error("the ring says: " + text);
    }
    if ((await doctor.getAttribute("[data-testid=incoming-call]", "data-tone")) !== "ring") throw new Error("no ringtone plays");
    await doctor.screenshot({ path: join(shots, "incoming-call.png") });
    await doctor.click("[data-testid=incoming-call] [data-testid=accept]");
    await second.waitForSelector("[data-testid=incoming-call]", { state: "detached", timeout: 5000 });
    if (second.url().includes(roomId)) throw new Error("the other screen opened the room");
  });

  await step("accepting from the appointments opens the room and both sides connect", async () => {
    await doctor.waitForURL(roomURL);
    await connected(doctor);
    await connected(patient);
    const name = await patient.locator("[data-testid=remote-name]").innerText();
    if (!name.includes("Alice Chen")) throw new Error("the remote tile is named " + name);
    if (await doctor.locator("[data-testid=incoming-call]").count()) throw new Error("still ringing after the answer");
  });

  await step("the other side sees a mute and a camera turned off, and the timer runs", async () => {
    await doctor.click("[data-testid=mute]");
    await patient.waitForSelector("[data-testid=remote-muted]", { timeout: 5000 });
    await doctor.click("[data-testid=camera]");
    await patient.waitForSelector("[data-testid=remote-camera-off]", { timeout: 5000 });
    await doctor.click("[data-testid=mute]");
    await doctor.click("[data-testid=camera]");
    await patient.waitForSelector("[data-testid=remote-muted]", { state: "detached", timeout: 5000 });
    await patient.waitForSelector("[data-testid=remote-camera-off]", { state: "detached", timeout: 5000 });
    await patient.waitForFunction(() => /\b\d+:\d\d\b/.test(document.querySelector("[data-testid=call-status]")?.textContent ?? "") && !/\b0:00\b/.test(document.querySelector("[data-testid=call-status]").textContent));
  });

  await step("the call stays up while the patient opens another screen, and the panel leads back", async () => {
    await patient.click("nav.mainnav a[href='/appointments']");
    await patient.waitForURL("**/appointments");
    await patient.waitForSelector("[data-testid=call-mini] [data-testid=call][data-peer-state=connected]");
    await patient.waitForFunction(playing);
    await patient.screenshot({ path: join(shots, "call-mini.png") });
    // The doctor's call never dropped.
    if ((await doctor.getAttribute("[data-testid=call]", "data-peer-state")) !== "connected") throw new Error("the doctor's call dropped");
    await patient.click("[data-testid=return-to-call]");
    await patient.waitForURL(roomURL);
    await patient.waitForSelector("[data-testid=call-mini]", { state: "detached" });
    await connected(patient);
  });

  await step("a reload mid-call rejoins: both sides connected again with live video", async () => {
    await patient.reload();
    // The doctor is not left looking at a frozen picture.
    await doctor.waitForSelector("[data-testid=reconnecting]", { timeout: 10_000 });
    await connected(patient, 15_000);
    await connected(doctor, 15_000);
    await doctor.waitForSelector("[data-testid=reconnecting]", { state: "detached" });
  });

  await step("hanging up records the call with its length on both sides", async () => {
    await doctor.click("[data-testid=hangup]");
    await patient.waitForSelector("[data-testid=call-ended][data-reason=ended]");
    for (const p of [patient, doctor]) {
      const n = await p.locator("[data-testid=call-message][data-outcome=completed]").count();
      if (n < 2) throw new Error(`${n} completed calls in the chat, want 2`);
    }
  });

  await step("a declined call says Declined to the caller, and the chat records it", async () => {
    await startCall(patient, "audio");
    await doctor.click("[data-testid=incoming-call] [data-testid=decline]");
    await patient.waitForSelector("[data-testid=call-ended][data-reason=declined]:has-text('declined')");
    for (const p of [patient, doctor]) await p.waitForSelector("[data-testid=call-message][data-outcome=declined]:has-text('Declined audio call')");
  });

  await step("an unanswered call ends as No answer and leaves a missed call in the chat", async () => {
    // The doctor is on their day, opened from the navigation: their
    // connection stays up (a server ends a ringing call when the callee's
    // connection dropped within its disconnect grace before).
    await doctor.click("nav.mainnav a[href='/appointments']");
    await doctor.waitForSelector("[data-testid=agenda-day]");
    await startCall(patient);
    await doctor.waitForSelector("[data-testid=incoming-call]");
    // Nobody answers: the server's ring timeout (6 s here) ends it.
    await patient.waitForSelector("[data-testid=call-ended][data-reason=noAnswer]", { timeout: 15_000 });
    await doctor.waitForSelector("[data-testid=incoming-call]", { state: "detached" });
    await doctor.waitForSelector("[data-testid=missed-call]");
    await patient.waitForSelector("[data-testid=call-message][data-outcome=missed]:has-text('Missed video call')");
  });

  await step("a message for a room that is not open shows as unread, in the list, the title and the navigation", async () => {
    const row = doctor.locator(`[data-id="${roomId}"]`).first();
    await patient.fill("[data-testid=composer]", "Are you still there, doctor?");
    await patient.click("[data-testid=send]");
    await row.locator("[data-testid=appt-unread]").waitFor();
    const badge = await row.locator("[data-testid=appt-unread]").innerText();
    if (!/^[1-9]\d* unread$/.test(badge)) throw new Error("the badge says " + badge);
    await row.locator("[data-testid=appt-last]:has-text('Are you still there')").waitFor();
    await doctor.waitForSelector("[data-testid=nav-unread]");
    await doctor.waitForSelector("[data-testid=message-toast]");
    const title = await doctor.title();
    if (!/^\(\d+\) My day · Teleconsult$/.test(title)) throw new Error("title: " + title);
    // The other screen counts too.
    await ctx.doctorSecond.waitForSelector("[data-testid=nav-unread]");
    await doctor.screenshot({ path: join(shots, "unread.png") });
  });

  await step("opening the room reads it: the badges clear everywhere", async () => {
    await doctor.locator(`[data-id="${roomId}"]`).first().getByRole("link", { name: "Open room" }).click();
    await doctor.waitForURL(roomURL);
    await doctor.waitForSelector(".msg:has-text('Are you still there')");
    await ctx.doctorSecond.waitForSelector("[data-testid=nav-unread]", { state: "detached" });
    await doctor.goto(base + "/appointments");
    await doctor.waitForSelector("[data-testid=agenda-day]");
    await doctor.waitForSelector(`[data-id="${roomId}"]`);
    if (await doctor.locator(`[data-id="${roomId}"] [data-testid=appt-unread]`).count()) throw new Error("the badge stayed");
    if (await doctor.locator("[data-testid=nav-unread]").count()) throw new Error("the navigation badge stayed");
    if ((await doctor.title()) !== "My day · Teleconsult") throw new Error("title: " + (await doctor.title()));
    await ctx.doctorSecond.close();
    // The suites after this one expect the doctor in the room.
    await doctor.goto(roomURL);
    await doctor.waitForSelector(".msg:has-text('Are you still there')");
  });
}
