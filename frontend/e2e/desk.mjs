// The doctor's desk: completing from the room, the start window explained,
// earlier consultations in the room, time off over a booking (warned,
// listed, cancelled with a message), and schedule errors on their row.
import { join } from "node:path";
import { api, step } from "./lib.mjs";

/** localInput formats an instant as a datetime-local value in a zone. */
function localInput(date, zone) {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(date)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

export async function run(ctx) {
  const { base, shots, doctor, patientAccount, roomURL } = ctx;
  const patientApi = await api(base, patientAccount.email, patientAccount.password);
  const doctorApi = await api(base, "alice.chen@demo.teleconsult.app", "DemoDoctor!2026");
  let later;

  await step("the doctor completes the consultation from the room", async () => {
    await doctor.goto(roomURL);
    await doctor.click("[data-testid=room-complete]");
    await doctor.waitForSelector("[data-testid=status]:has-text('Completed')");
    await doctor.waitForSelector("[data-testid=room-notice]");
  });

  await step("starting too early explains when the consultation can start", async () => {
    // A booking three days ahead: outside the server's 48 h start window here.
    const from = new Date(Date.now() + 72 * 3600e3);
    const slots = await patientApi.get(`/doctors/${doctorApi.user.id}/slots?from=${from.toISOString()}&to=${new Date(from.getTime() + 6 * 3600e3).toISOString()}`);
    later = await patientApi.post("/appointments", { doctor_id: doctorApi.user.id, starts_at: slots.items[0].starts_at, reason: "Follow-up on the inhaler" });
    await doctor.goto(base + "/appointments");
    const row = doctor.locator(`[data-testid=upcoming] .appt[data-id="${later.id}"]`);
    await row.getByRole("button", { name: "Start consultation" }).click();
    const msg = await doctor.locator("[data-testid=appts-error]").innerText();
    if (!/You can start this consultation from .+ \(48 h before it begins\)/.test(msg)) throw new Error("start refusal: " + msg);
  });

  await step("the room shows the reason and the earlier consultations with their diagnosis", async () => {
    await doctor.goto(base + "/appointments/" + later.id);
    await doctor.waitForSelector("[data-testid=visit-reason]:has-text('Follow-up on the inhaler')");
    await doctor.waitForSelector("[data-testid=history]:has-text('Exercise-induced asthma')");
    await doctor.click("[data-testid=room-start]");
    await doctor.waitForSelector("[data-testid=start-hint]:has-text('You can start this consultation from')");
    await doctor.screenshot({ path: join(shots, "room-doctor-desk.png") });
  });

  await step("time off over a booking lists it and cancels it with a message to the patient", async () => {
    await doctor.goto(base + "/schedule");
    const start = new Date(new Date(later.starts_at).getTime() - 3600e3);
    const end = new Date(new Date(later.starts_at).getTime() + 3600e3);
    await doctor.fill("input[name=off_from]", localInput(start, "Europe/Berlin"));
    await doctor.fill("input[name=off_to]", localInput(end, "Europe/Berlin"));
    await doctor.click("[data-testid=add-time-off]");
    const panel = doctor.locator("[data-testid=conflicts]");
    await panel.waitFor();
    if (!(await panel.innerText()).includes(patientAccount.name)) throw new Error("the booking is not listed");
    await doctor.fill("textarea[name=cancel_message]", "Sorry, I am away that day. Please book another time.");
    await doctor.screenshot({ path: join(shots, "time-off-conflicts.png") });
    await doctor.click("[data-testid=cancel-conflicts]");
    await doctor.waitForSelector("[data-testid=off-notice]:has-text('1 consultations cancelled')");
    const a = await patientApi.get("/appointments/" + later.id);
    if (a.status !== "cancelled") throw new Error("the booking is " + a.status);
    if (!a.cancel_reason.includes("away that day")) throw new Error("cancel reason: " + a.cancel_reason);
    // The patient sees the doctor's message with the cancelled booking.
    await ctx.patient.goto(base + "/appointments");
    await ctx.patient.waitForSelector("[data-testid=cancel-reason]:has-text('away that day')");
  });

  await step("a schedule error on one rule is shown on that row and field", async () => {
    await doctor.goto(base + "/schedule");
    await doctor.waitForSelector("[data-testid=rules] .rule");
    const rows = await doctor.locator("[data-testid=rules] .rule").count();
    await doctor.getByRole("button", { name: "Add hours" }).click();
    const row = doctor.locator(`[data-testid=rules] .rule[data-row="${rows}"]`);
    await row.locator("input[data-field=start]").fill("12:00");
    await row.locator("input[data-field=end]").fill("11:00");
    await doctor.click("[data-testid=save-schedule]");
    await row.locator("[data-testid=rule-error]:has-text('The end must be after the start.')").waitFor();
    if ((await row.locator("input[data-field=end]").getAttribute("aria-invalid")) !== "true") throw new Error("the end field is not marked");
    const summary = await doctor.locator("[data-testid=schedule-error]").innerText();
    if (/rules\[/.test(summary)) throw new Error("a raw field path is shown: " + summary);
    if (await doctor.locator("[data-testid=rules] .rule[data-row='0'] [data-testid=rule-error]").count()) throw new Error("the error landed on another row");
    await doctor.screenshot({ path: join(shots, "schedule-error.png") });
    await doctor.reload(); // drop the broken row
  });

  await step("the schedule saves unchanged, openings to midnight included", async () => {
    await doctor.waitForSelector("[data-testid=rules] .rule");
    await doctor.click("[data-testid=save-schedule]");
    await doctor.waitForSelector("form .success:has-text('Schedule saved.')");
    const s = await doctorApi.get("/doctors/me/schedule");
    if (!s.rules.every((r) => r.end === "24:00")) throw new Error("openings to midnight changed: " + JSON.stringify(s.rules.slice(0, 2)));
  });
}
