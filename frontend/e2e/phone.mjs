// Every main screen at 390×844: no sideways scrolling, every control
// inside the viewport, the key control of each screen in view, axe-core
// clean, and a screenshot of each (in the artifacts directory). Also the
// Chinese UI: <html lang>, and the layout with Chinese labels.
import { join } from "node:path";
import { api, axe, fitsWidth, inView, signIn, soft, step } from "./lib.mjs";

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1, permissions: ["camera", "microphone"] };

export async function run(ctx) {
  const { browser, base, shots, patientAccount, roomURL, STEP } = ctx;
  const pctx = await browser.newContext({ ...phone, locale: "en-US", timezoneId: "Asia/Shanghai" });
  const dctx = await browser.newContext({ ...phone, locale: "en-US", timezoneId: "Europe/Berlin" });
  const p = await pctx.newPage();
  const d = await dctx.newPage();
  for (const x of [p, d]) {
    x.setDefaultTimeout(STEP);
    x.on("dialog", (dl) => void dl.accept());
  }
  const screen = async (page, name, key) => {
    await fitsWidth(page);
    if (key) await inView(page, key);
    await page.screenshot({ path: join(shots, `phone-${name}.png`) });
    await soft(`axe at 390 px: ${name}`, () => axe(page, name));
  };

  await step("phone: sign-in fits", async () => {
    await p.goto(base + "/login");
    await screen(p, "login", "button[type=submit]");
    await signIn(p, base, patientAccount.email, patientAccount.password, "**/doctors");
    const h = await p.locator("header.topbar").boundingBox();
    if (h.height > 64) throw new Error(`the header is ${Math.round(h.height)} px tall`);
  });

  await step("phone: find a doctor fits", async () => {
    await p.locator(".doctor").first().waitFor();
    await screen(p, "doctors", "input[name=q]");
  });

  await step("phone: booking fits and the confirmation is in view", async () => {
    await p.locator(".doctor", { hasText: "Sofia Rossi" }).getByRole("link").click();
    await p.locator(".slot").first().waitFor();
    await screen(p, "doctor");
    await p.locator(".slot").nth(2).click();
    await p.waitForSelector("[data-testid=book]");
    await p.waitForTimeout(300); // smooth scrolling into view
    await screen(p, "booking", "[data-testid=book]");
    await p.click("[data-testid=book]");
    await p.waitForSelector("[data-testid=booked]");
  });

  await step("phone: appointments fit", async () => {
    await p.goto(base + "/appointments");
    await p.locator("[data-testid=upcoming] .appt").first().waitFor();
    await screen(p, "appointments");
  });

  await step("phone: the room fits and its composer is in view", async () => {
    await p.goto(roomURL);
    await p.waitForSelector("[data-testid=connection]:has-text('Connected')");
    await p.locator(".msg").first().waitFor();
    await p.locator(".members li").first().waitFor();
    await p.waitForTimeout(300);
    await screen(p, "room", "[data-testid=composer]");
  });

  await step("phone: the notifications menu opens inside the screen", async () => {
    await p.click("[data-testid=bell]");
    await p.waitForSelector("[data-testid=bell-menu]");
    await inView(p, "[data-testid=bell-menu]");
    await screen(p, "notifications");
    await p.keyboard.press("Escape");
  });

  await step("phone: the Chinese UI sets <html lang> and fits", async () => {
    await p.click("[data-testid=account]");
    await p.selectOption("[data-testid=lang]", "zh");
    await p.waitForFunction(() => document.documentElement.lang === "zh-CN");
    await p.goto(base + "/appointments");
    await p.locator("[data-testid=upcoming] .appt").first().waitFor();
    const title = await p.title();
    // An unread count may lead the title: "(1) 我的预约 · 远程问诊".
    if (!/^(\(\d+\) )?我的预约 · 远程问诊$/.test(title)) throw new Error("title: " + title);
    const nav = await p.locator("nav.mainnav").innerText();
    if (/[A-Za-z]{3,}/.test(nav)) throw new Error("English in the Chinese navigation: " + nav);
    await screen(p, "appointments-zh");
  });

  await step("phone: the doctor's day fits", async () => {
    await signIn(d, base, "alice.chen@demo.teleconsult.app", "DemoDoctor!2026", "**/appointments");
    await d.waitForSelector("[data-testid=agenda-day]");
    await screen(d, "agenda");
  });

  await step("phone: the schedule editor fits and shows the weekday names", async () => {
    await d.goto(base + "/schedule");
    await d.locator("[data-testid=rules] .rule").first().waitFor();
    await screen(d, "schedule", "[data-testid=rules] .rule select");
    const days = await d.locator("[data-testid=rules] .rule select").evaluateAll((els) =>
      els.map((s) => {
        const b = s.getBoundingClientRect();
        const text = s.options[s.selectedIndex]?.text ?? "";
        return { text, w: b.width, right: b.right };
      }),
    );
    const w = 390;
    for (const x of days) {
      if (!x.text || x.right > w) throw new Error(`weekday "${x.text}" is cut off`);
      if (x.w < 110) throw new Error(`the weekday select is only ${Math.round(x.w)} px wide`);
    }
    await d.fill("input[name=off_from]", "2030-01-01T09:00");
    await screen(d, "time-off", "[data-testid=add-time-off]");
  });

  await step("phone: a call rings over the appointments, and the call, the chat beside it and the call panel fit", async () => {
    // A consultation the doctor can call in (calls are open while one is booked or in progress).
    const patientApi = await api(base, patientAccount.email, patientAccount.password);
    const doctorApi = await api(base, "alice.chen@demo.teleconsult.app", "DemoDoctor!2026");
    const from = new Date(Date.now() + 2 * 3600e3);
    const slots = await patientApi.get(`/doctors/${doctorApi.user.id}/slots?from=${from.toISOString()}&to=${new Date(from.getTime() + 96 * 3600e3).toISOString()}`);
    const a = await patientApi.post("/appointments", { doctor_id: doctorApi.user.id, starts_at: slots.items[0].starts_at, reason: "Phone call check" });
    await p.goto(base + "/appointments");
    await p.locator("[data-testid=upcoming] .appt").first().waitFor();
    await d.goto(base + "/appointments/" + a.id);
    await d.waitForSelector("[data-testid=connection].connected");
    await d.click("[data-testid=call-video]");
    await d.waitForSelector("[data-testid=precall] [data-testid=precall-start]");
    await screen(d, "precall", "[data-testid=precall-start]");
    await d.click("[data-testid=precall-start]");
    await p.waitForSelector("[data-testid=incoming-call]");
    await screen(p, "incoming-call", "[data-testid=incoming-call] [data-testid=accept]");
    await p.click("[data-testid=incoming-call] [data-testid=accept]");
    await p.waitForURL("**/appointments/" + a.id);
    await p.waitForSelector("[data-testid=call][data-peer-state=connected]");
    await d.waitForSelector("[data-testid=call][data-peer-state=connected]");
    await screen(p, "call", "[data-testid=hangup]");
    // On a phone the chat is one tap away, its composer in reach.
    await p.click("[data-testid=show-chat]");
    await p.waitForSelector("[data-testid=composer]");
    await screen(p, "call-chat", "[data-testid=composer]");
    await p.click("[data-testid=show-video]");
    await p.click("nav.mainnav a[href='/appointments']");
    await p.waitForSelector("[data-testid=call-mini] [data-testid=return-to-call]");
    await screen(p, "call-mini", "[data-testid=call-mini] [data-testid=hangup]");
    await p.click("[data-testid=call-mini] [data-testid=hangup]");
    await d.waitForSelector("[data-testid=call-ended]");
    await patientApi.post(`/appointments/${a.id}/cancel`, { reason: "" });
  });

  await pctx.close();
  await dctx.close();
}
