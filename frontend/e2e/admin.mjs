// The clinic's admin console, against the real server: the admin sees no
// patient screens; creates a doctor whom patients then find; cancels an
// appointment with a reason the patient reads in the bell; reads a
// consultation only after stating a reason, which the audit log then
// shows (and filters, and exports as CSV); an announcement reaches a
// signed-in patient live; the dashboard's charts; axe-core and the phone
// layout on the console's main screens.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { axe, fitsWidth, inView, signIn, soft, step } from "./lib.mjs";
import { ADMIN, ALICE, book, client, newPatient, say } from "./people.mjs";

const desktop = { viewport: { width: 1200, height: 860 }, locale: "en-US", timezoneId: "Europe/Berlin" };
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1, locale: "en-US", timezoneId: "Asia/Shanghai" };

export async function run(ctx) {
  const { browser, base, shots, STEP } = ctx;
  const actx = await browser.newContext({ ...desktop, acceptDownloads: true });
  const pctx = await browser.newContext({ ...desktop, timezoneId: "Europe/London" });
  const a = await actx.newPage();
  const p = await pctx.newPage();
  for (const x of [a, p]) x.setDefaultTimeout(STEP);

  const adminApi = await client(base, ADMIN.email, ADMIN.password);
  const alice = await client(base, ALICE.email, ALICE.password);
  const { account: pat, api: patApi } = await newPatient(base, "Quinn Admin");
  // Two bookings: one to cancel, one whose conversation is read.
  const toCancel = await book(patApi, alice.user.id, 40, "Rash on the arm");
  const toRead = await book(patApi, alice.user.id, 45, "Follow-up on blood pressure");
  await say(base, patApi.token, toRead.id, ["My readings are 150/95 in the mornings."]);
  await say(base, alice.token, toRead.id, ["Please measure twice a day for a week."]);
  // A voice call the doctor cancels before it is answered leaves a call line in the room.
  let called = "";
  await say(base, alice.token, toRead.id, [{ event: "rtc:invite", data: { media: "audio" } }, { event: "rtc:hangup" }]).catch((e) => (called = e.message));

  try {
    await step("admin: signing in lands on the console, with its own navigation only", async () => {
      await signIn(a, base, ADMIN.email, ADMIN.password, "**/admin");
      await a.waitForSelector("[data-testid=admin-nav]");
      const nav = await a.locator("header.topbar").innerText();
      if (/Find a doctor|My appointments/.test(nav)) throw new Error("patient navigation shown to the admin: " + nav);
      await a.locator("[data-testid=kpi-users]").waitFor();
      const users = Number(await a.locator("[data-testid=kpi-users]").innerText());
      const stats = await adminApi.get("/admin/stats");
      const want = Object.values(stats.users).reduce((x, y) => x + y, 0);
      if (users !== want) throw new Error(`users shown ${users}, server says ${want}`);
      if ((await a.title()) !== "Dashboard · Teleconsult") throw new Error("title: " + (await a.title()));
    });

    await step("admin: patient screens redirect to the console", async () => {
      for (const path of ["/appointments", "/doctors", `/appointments/${toRead.id}`, "/doctors/" + alice.user.id, "/home"]) {
        await a.goto(base + path);
        await a.waitForURL((u) => u.pathname === "/admin", { timeout: 10_000 }).catch(() => {});
        const at = new URL(a.url()).pathname;
        if (at !== "/admin") throw new Error(`${path} as admin landed on ${at}`);
      }
    });

    await step("admin: the dashboard charts the 30 days and the no-show rate, and refreshes", async () => {
      await a.locator("[data-testid=chart-roles] canvas").waitFor();
      await a.locator("[data-testid=chart-status] canvas").waitFor();
      const stats = await adminApi.get("/admin/stats");
      if (Array.isArray(stats.appointments_by_day)) {
        await a.locator("[data-testid=chart-appts-day] canvas").waitFor();
        // The table behind the chart has the 30 days.
        const rows = await a.locator("[data-testid=chart-appts-day] tbody tr").count();
        if (rows !== 30) throw new Error(`${rows} days in the appointments chart`);
      }
      if (Array.isArray(stats.messages_by_day)) await a.locator("[data-testid=chart-messages-day] canvas").waitFor();
      const rate = await a.locator("[data-testid=kpi-noshow]").innerText();
      if (!/^(\d+(\.\d)?%|—)$/.test(rate.trim())) throw new Error("no-show rate: " + rate);
      const before = await a.locator("[data-testid=updated]").innerText();
      await a.waitForTimeout(1100);
      await a.click("[data-testid=refresh]");
      await a.waitForFunction((b) => document.querySelector("[data-testid=updated]")?.textContent !== b, before);
      await a.screenshot({ path: join(shots, "admin-dashboard.png") });
      await soft("axe: admin dashboard has no serious or critical violations", () => axe(a, "admin dashboard"));
    });

    const docName = "Dr. Mira E2E " + Math.random().toString(36).slice(2, 6);
    const docEmail = `mira.${Date.now()}@example.com`;
    await step("admin: creates a doctor, with field errors next to the fields", async () => {
      await a.click("[data-testid=admin-nav] a[href='/admin/users']");
      await a.locator("[data-testid=users] li").first().waitFor();
      await soft("axe: admin users has no serious or critical violations", () => axe(a, "admin users"));
      await a.click("[data-testid=new-user]");
      const f = a.locator("[data-testid=create-user]");
      await f.locator("select[name=role]").selectOption("doctor");
      await f.locator("input[name=name]").fill(docName);
      await f.locator("input[name=email]").fill(docEmail);
      await f.locator("input[name=password]").fill("short");
      await f.locator("input[name=specialty]").fill("Neurology");
      await a.click("[data-testid=create]");
      const err = await f.locator("[data-testid=err-password]").innerText();
      if (!/at least 10/.test(err)) throw new Error("password error: " + err);
      await f.locator("input[name=password]").fill("a-doctor-password-" + Date.now());
      await a.click("[data-testid=create]");
      await a.waitForSelector(`[data-testid=notice]:has-text("${docName}")`);
      await a.locator(`[data-testid=users] li[data-email="${docEmail}"]`).waitFor();
    });

    await step("admin: sets the new doctor's bio, specialty and fee (an amount with too many decimals is marked)", async () => {
      const row = a.locator(`[data-testid=users] li[data-email="${docEmail}"]`);
      await row.locator("[data-testid=edit]").click();
      await row.locator("input[name=edit-specialty]").fill("Cardiology");
      await row.locator("textarea[name=edit-bio]").fill("Heart rhythm specialist; sees adults and teenagers.");
      await row.locator("select[name=edit-currency]").selectOption("EUR");
      const options = await row.locator("select[name=edit-currency] option").allInnerTexts();
      for (const c of ["EUR", "USD", "GBP", "CHF", "CNY"]) if (!options.includes(c)) throw new Error("currencies offered: " + options.join(", "));
      await row.locator("input[name=edit-fee]").fill("45.505");
      await row.locator("[data-testid=save-user]").click();
      const feeErr = await row.locator("[data-testid=err-fee]").innerText();
      if (!/45\.00/.test(feeErr)) throw new Error("fee error: " + feeErr);
      await row.locator("input[name=edit-fee]").fill("45.50");
      await row.locator("[data-testid=save-user]").click();
      await a.waitForSelector(`[data-testid=notice]:has-text("profile was saved")`);
      const users = await adminApi.get("/admin/users?q=" + encodeURIComponent(docEmail));
      const d = users.items.find((u) => u.email === docEmail);
      if (d?.doctor?.bio !== "Heart rhythm specialist; sees adults and teenagers." || d?.doctor?.specialty !== "Cardiology") throw new Error("server has " + JSON.stringify(d?.doctor));
      if (d?.doctor?.fee?.amount !== 4550 || d?.doctor?.fee?.currency !== "EUR") throw new Error("server has the fee " + JSON.stringify(d?.doctor?.fee));
    });

    await step("a patient finds the new doctor, with the bio, in the doctor search", async () => {
      await signIn(p, base, pat.email, pat.password, "**/doctors");
      await p.fill("input[name=q]", docName.split(" ").slice(0, 3).join(" "));
      const card = p.locator(".doctor", { hasText: docName });
      await card.waitFor();
      const text = await card.innerText();
      if (!/Heart rhythm specialist/.test(text) || !/Cardiology/.test(text)) throw new Error("card: " + text);
      // The fee, formatted by Intl in the page's language: "€45.50".
      const fee = await p.evaluate(() => new Intl.NumberFormat(document.documentElement.lang || "en", { style: "currency", currency: "EUR" }).format(45.5));
      const shown = await card.locator("[data-testid=fee]").innerText();
      if (!shown.includes(fee) || !/45\.50/.test(shown)) throw new Error(`card fee: "${shown}", expected ${fee}`);
      await card.locator("a").click();
      const onPage = await p.locator(".doctor-head [data-testid=fee]").innerText();
      if (!onPage.includes(fee)) throw new Error(`booking page fee: "${onPage}", expected ${fee}`);
    });

    await step("admin: a disabled account cannot sign in, and is enabled again", async () => {
      const row = a.locator(`[data-testid=users] li[data-email="${docEmail}"]`);
      await row.locator("[data-testid=disable]").click();
      const warn = await row.locator("[data-testid=confirm-disable]").innerText();
      if (!/signed out everywhere at once/.test(warn)) throw new Error("warning: " + warn);
      await row.locator("[data-testid=confirm-disable-yes]").click();
      await row.locator("[data-testid=disabled-tag]").waitFor();
      await a.selectOption("select[name=status-filter]", "disabled");
      await a.locator(`[data-testid=users] li[data-email="${docEmail}"]`).waitFor();
      if ((await a.locator("[data-testid=users] li:not(:has([data-testid=disabled-tag]))").count()) !== 0) throw new Error("the status filter shows active accounts");
      await a.selectOption("select[name=status-filter]", "");
      const [user] = (await adminApi.get("/admin/users?q=" + encodeURIComponent(docEmail))).items;
      if (!user.disabled) throw new Error("the server did not disable the account");
      await row.locator("[data-testid=enable]").click();
      await row.locator("[data-testid=disable]").waitFor();
    });

    await step("admin: sends a password reset mail (202)", async () => {
      const row = a.locator(`[data-testid=users] li[data-email="${docEmail}"]`);
      await row.locator("[data-testid=send-reset]").click();
      await a.waitForSelector(`[data-testid=notice]:has-text("${docEmail}")`);
    });

    await step("admin: filters appointments by patient and cancels one with a reason both parties read", async () => {
      await a.click("[data-testid=admin-nav] a[href='/admin/appointments']");
      await a.locator("[data-testid=admin-appts] li").first().waitFor();
      await a.fill("input[name=patient]", pat.email);
      await a.waitForTimeout(600); // the lookup
      await a.click("[data-testid=apply]");
      await a.waitForFunction((n) => document.querySelectorAll("[data-testid=admin-appts] li").length === n, 2);
      const names = await a.locator("[data-testid=admin-appts]").innerText();
      if (!names.includes(pat.name) || !names.includes("Alice Chen")) throw new Error("names: " + names.slice(0, 200));
      const row = a.locator(`[data-testid=admin-appts] li[data-id="${toCancel.id}"]`);
      await row.locator("[data-testid=cancel]").click();
      const warn = await row.locator("[data-testid=cancel-form] .warn").innerText();
      if (!warn.includes(pat.name) || !/clinic cancelled/.test(warn)) throw new Error("warning: " + warn);
      await row.locator("[data-testid=confirm-cancel]").click();
      await row.locator("[data-testid=err-reason]").waitFor();
      await row.locator("textarea[name=cancel-reason]").fill("Dr. Chen is unwell today");
      await row.locator("[data-testid=confirm-cancel]").click();
      await row.locator("[data-testid=status]:has-text('Cancelled')").waitFor();
      const ap = await patApi.get(`/appointments/${toCancel.id}`);
      if (ap.status !== "cancelled" || ap.cancel_reason !== "Dr. Chen is unwell today") throw new Error("server: " + ap.status + " " + ap.cancel_reason);
    });

    await step("the patient's bell says the clinic cancelled, and why", async () => {
      await p.locator("[data-testid=unread]").waitFor();
      await p.click("[data-testid=bell]");
      const note = p.locator("[data-testid=bell-menu] .note[data-kind=appointment_cancelled]").first();
      await note.waitFor();
      const text = await note.innerText();
      if (!/cancelled by the clinic/.test(text) || !/Dr\. Chen is unwell today/.test(text)) throw new Error("notification: " + text);
      await p.keyboard.press("Escape");
    });

    const reason = "Complaint #" + Math.floor(Math.random() * 9000 + 1000) + " about advice given";
    await step("admin: reading a consultation warns first, needs a reason, then shows who said what", async () => {
      await a.locator(`[data-testid=admin-appts] li[data-id="${toRead.id}"] [data-testid=record]`).click();
      await a.waitForURL(`**/admin/appointments/${toRead.id}/record`);
      const warning = await a.locator("[data-testid=breakglass-warning]").innerText();
      if (!/recorded in the audit log/.test(warning)) throw new Error("warning: " + warning);
      if (await a.locator("[data-testid=record-messages]").count()) throw new Error("messages shown before a reason was given");
      await a.click("[data-testid=read-record]");
      await a.locator("[data-testid=err-access-reason]").waitFor();
      // The server itself refuses an admin read without a reason.
      const bare = await adminApi.raw("GET", `/appointments/${toRead.id}/messages`);
      if (bare.status !== 403) throw new Error(`a read without a reason answered ${bare.status}`);
      await a.fill("textarea[name=access-reason]", reason);
      await a.click("[data-testid=read-record]");
      await a.locator("[data-testid=record-messages] li").first().waitFor();
      const text = await a.locator("[data-testid=record-messages]").innerText();
      if (!text.includes(`${pat.name} (patient)`) || !text.includes("Dr. Alice Chen (doctor)")) throw new Error("senders: " + text.slice(0, 300));
      if (!text.includes("150/95") || !text.includes("twice a day")) throw new Error("messages: " + text.slice(0, 300));
      if (/[0-9a-f]{8}-[0-9a-f]{4}-/.test(text)) throw new Error("raw ids shown: " + text.slice(0, 300));
      await a.screenshot({ path: join(shots, "admin-record.png") });
    });

    await soft("admin: a record draws a call line with its outcome", async () => {
      if (called) throw new Error("the test call could not be placed: " + called);
      const line = a.locator("[data-testid=record-messages] li[data-kind=call]").first();
      await line.waitFor({ timeout: 5000 });
      const text = await line.innerText();
      if (!/Dr\. Alice Chen \(doctor\)/.test(text) || !/Voice call, (cancelled|missed)/.test(text)) throw new Error("call line: " + text);
    });

    await soft("admin: a record draws the room's system lines (the clinic's cancellation)", async () => {
      await a.goto(`${base}/admin/appointments/${toCancel.id}/record`);
      await a.fill("textarea[name=access-reason]", "Checking the clinic's cancellation note");
      await a.click("[data-testid=read-record]");
      const line = a.locator("[data-testid=record-messages] li[data-kind=system]").first();
      await line.waitFor();
      const text = await line.innerText();
      if (!/The consultation was cancelled/.test(text)) throw new Error("system line: " + text);
      await a.goto(`${base}/admin/appointments`);
      await a.locator("[data-testid=admin-appts] li").first().waitFor();
    });

    await step("admin: the audit log shows the read with its reason, and filters", async () => {
      await a.click("[data-testid=admin-nav] a[href='/admin/audit']");
      await a.locator("[data-testid=audit-entries] li").first().waitFor();
      await soft("axe: admin audit log has no serious or critical violations", () => axe(a, "admin audit"));
      await a.selectOption("select[name=action]", "chat.read");
      await a.fill("input[name=target_id]", toRead.id);
      await a.click("[data-testid=apply]");
      // The list is the filtered one before anything is read from it.
      await a.waitForFunction(() => {
        const items = [...document.querySelectorAll("[data-testid=audit-entries] li")];
        return items.length > 0 && items.every((e) => e.dataset.action === "chat.read");
      });
      const entry = a.locator("[data-testid=audit-entries] li", { hasText: reason });
      await entry.waitFor();
      const all = await a.locator("[data-testid=audit-entries] li").evaluateAll((els) => els.map((e) => e.dataset.action));
      if (!all.length || all.some((x) => x !== "chat.read")) throw new Error("actions under the filter: " + all.join(","));
      if (!(await entry.innerText()).includes("Demo Admin")) throw new Error("the actor is not named: " + (await entry.innerText()));
      // Another action: the read is gone, the doctor's creation is there.
      await a.selectOption("select[name=action]", "user.create");
      await a.fill("input[name=target_id]", "");
      await a.click("[data-testid=apply]");
      await a.locator("[data-testid=audit-entries] li[data-action='user.create']").first().waitFor();
      if (await a.locator("[data-testid=audit-entries] li", { hasText: reason }).count()) throw new Error("the filter kept the read");
      if (await a.locator("[data-testid=audit-entries] li:not([data-action='user.create'])").count()) throw new Error("other actions under the user.create filter");
      // By who: the patient's own actions only.
      await a.selectOption("select[name=action]", "");
      await a.fill("input[name=actor]", pat.email);
      await a.click("[data-testid=apply]");
      await a.locator("[data-testid=audit-entries] li[data-action='appointment.book']").first().waitFor();
      const by = await a.locator("[data-testid=audit-entries] li").evaluateAll((els) => els.map((e) => e.innerText));
      if (by.some((x) => !x.includes(`By ${pat.name}`))) throw new Error("entries of others under the actor filter: " + by.find((x) => !x.includes(pat.name)));
      await a.fill("input[name=actor]", "");
      await a.screenshot({ path: join(shots, "admin-audit.png") });
    });

    await step("admin: the filtered audit log exports as CSV, quoted properly", async () => {
      await a.selectOption("select[name=action]", "chat.read");
      await a.fill("input[name=target_id]", toRead.id);
      await a.click("[data-testid=apply]");
      await a.locator("[data-testid=audit-entries] li", { hasText: reason }).waitFor();
      const [download] = await Promise.all([a.waitForEvent("download"), a.click("[data-testid=export]")]);
      const csv = readFileSync(await download.path(), "utf8").replace(/^\ufeff/, "");
      const lines = csv.split("\r\n").filter(Boolean);
      if (lines[0] !== "time,actor_id,actor,actor_role,action,target_type,target_id,reason,details,request_id") throw new Error("header: " + lines[0]);
      const rows = lines.slice(1);
      if (!rows.length || rows.some((r) => !r.includes(",chat.read,appointment," + toRead.id + ","))) throw new Error("rows: " + rows.join(" | "));
      if (!rows.some((r) => r.includes("," + reason + ",") && r.includes(",Demo Admin,admin,"))) throw new Error("no row with the reason: " + rows.join(" | "));
    });

    await step("an announcement reaches a signed-in patient live", async () => {
      const title = "Clinic closed on Friday " + Math.random().toString(36).slice(2, 6);
      await a.click("[data-testid=admin-nav] a[href='/admin/announcements']");
      await a.check("input[name=audience][value=patients]");
      await a.click("[data-testid=preview]");
      await a.locator("[data-testid=err-title]").waitFor();
      await a.fill("input[name=title]", title);
      await a.fill("textarea[name=body]", "We are closed for maintenance; online consultations go on as booked.");
      await a.click("[data-testid=preview]");
      const preview = await a.locator("[data-testid=preview-note]").innerText();
      if (!preview.includes(title)) throw new Error("preview: " + preview);
      await p.goto(base + "/doctors");
      await p.waitForSelector("[data-testid=connection]:has-text('Connected')");
      const unreadBefore = Number((await p.locator("[data-testid=unread]").count()) ? await p.locator("[data-testid=unread]").innerText() : 0);
      await a.click("[data-testid=send]");
      await a.waitForSelector("[data-testid=notice]:has-text('Sent to')");
      await p.waitForFunction((n) => Number(document.querySelector("[data-testid=unread]")?.textContent ?? 0) > n, unreadBefore);
      await p.click("[data-testid=bell]");
      await p.locator(`[data-testid=bell-menu] .note[data-kind=announcement]`, { hasText: title }).waitFor();
      await p.keyboard.press("Escape");
      await a.locator("[data-testid=ann-history] li", { hasText: title }).waitFor();
    });

    await step("admin console at 390 px: dashboard, users and audit fit, axe-clean", async () => {
      const ph = await browser.newContext(phone);
      const m = await ph.newPage();
      m.setDefaultTimeout(STEP);
      try {
        await signIn(m, base, ADMIN.email, ADMIN.password, "**/admin");
        const screen = async (name, ready, key) => {
          await m.locator(ready).first().waitFor();
          await m.waitForTimeout(200);
          await fitsWidth(m);
          if (key) await inView(m, key);
          await m.screenshot({ path: join(shots, `phone-${name}.png`) });
          await soft(`axe at 390 px: ${name}`, () => axe(m, name));
        };
        await screen("admin-dashboard", "[data-testid=chart-roles] canvas", "[data-testid=admin-nav]");
        await m.goto(base + "/admin/users");
        await screen("admin-users", "[data-testid=users] li", "[data-testid=new-user]");
        await m.goto(base + "/admin/appointments");
        await screen("admin-appointments", "[data-testid=admin-appts] li");
        await m.goto(base + "/admin/audit");
        await screen("admin-audit", "[data-testid=audit-entries] li", "[data-testid=export]");
        await m.goto(base + "/admin/announcements");
        await screen("admin-announcements", "[data-testid=compose]", "input[name=title]");
      } finally {
        await ph.close();
      }
    });
  } catch {
    /* reported by step; the next suite goes on */
  } finally {
    await actx.close();
    await pctx.close();
  }
}
