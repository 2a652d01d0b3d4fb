// Self-service accounts, against the real server: a forgotten password
// reset from the mail's link (read from the server's log, where mails go
// without SMTP_URL), a used link refused with a way to ask again; the
// profile (language that follows the account, a wrong current password
// said next to its field, sessions signed out elsewhere), my data; and
// the account screens at 390 px with axe-core.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { axe, fitsWidth, inView, signIn, soft, step } from "./lib.mjs";
import { ADMIN, client, logLength, newPatient, resetToken } from "./people.mjs";

const desktop = { viewport: { width: 1200, height: 860 }, locale: "en-US", timezoneId: "Europe/London" };
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1, locale: "en-US", timezoneId: "Asia/Shanghai" };

export async function run(ctx) {
  const { browser, base, shots, STEP, serverLog } = ctx;
  const c = await browser.newContext({ ...desktop, acceptDownloads: true });
  const p = await c.newPage();
  p.setDefaultTimeout(STEP);
  const { account: pat } = await newPatient(base, "Riley Reset");
  const newPassword = "a-brand-new-password-" + Date.now();

  try {
    await step("account: 'Forgot password?' asks for the email and says a mail is on its way if the account exists", async () => {
      await p.goto(base + "/login");
      await p.fill("input[name=email]", pat.email);
      await p.click("[data-testid=forgot]");
      await p.waitForURL("**/forgot-password**");
      if ((await p.inputValue("input[name=email]")) !== pat.email) throw new Error("the email typed on the sign-in page was not carried over");
      await soft("axe: forgot password has no serious or critical violations", () => axe(p, "forgot password"));
      const mark = logLength(serverLog);
      ctx.resetMark = mark;
      await p.click("button[type=submit]");
      const sent = await p.locator("[data-testid=forgot-sent]").innerText();
      if (!/If an account exists/.test(sent)) throw new Error("confirmation: " + sent);
    });

    let token = "";
    await step("account: the mail (in the server's log) carries the reset link", async () => {
      token = await resetToken(serverLog, pat.email, ctx.resetMark);
      if (token.length < 16) throw new Error("token: " + token);
    });

    await step("account: the link's page says a weak password next to the field, then sets a good one", async () => {
      await p.goto(`${base}/reset-password?token=${encodeURIComponent(token)}`);
      await soft("axe: reset password has no serious or critical violations", () => axe(p, "reset password"));
      await p.fill("input[name=password]", "password12");
      await p.fill("input[name=confirm]", "password12");
      await p.click("[data-testid=set-password]");
      const err = await p.locator("[data-testid=err-password]").innerText();
      if (!err.trim()) throw new Error("no field error for a weak password");
      await p.fill("input[name=password]", newPassword);
      await p.fill("input[name=confirm]", newPassword + "x");
      await p.click("[data-testid=set-password]");
      await p.locator("[data-testid=err-confirm]").waitFor();
      await p.fill("input[name=confirm]", newPassword);
      await p.click("[data-testid=set-password]");
      await p.locator("[data-testid=reset-done]").waitFor();
    });

    await step("account: signing in works with the new password only", async () => {
      const old = await fetch(base + "/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: pat.email, password: pat.password }) });
      if (old.status !== 401) throw new Error(`the old password answered ${old.status}`);
      await p.click("[data-testid=to-sign-in]");
      await p.fill("input[name=email]", pat.email);
      await p.fill("input[name=password]", newPassword);
      await p.click("button[type=submit]");
      await p.waitForURL("**/doctors");
    });

    await step("account: a used link is refused, with a way to ask again", async () => {
      const r = await fetch(base + "/api/v1/auth/password/reset", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token, password: newPassword + "2" }) });
      if (r.status !== 400) throw new Error(`reusing the token answered ${r.status}`);
      const q = await browser.newContext(desktop);
      const x = await q.newPage();
      try {
        await x.goto(`${base}/reset-password?token=${encodeURIComponent(token)}`);
        await x.fill("input[name=password]", newPassword + "3");
        await x.fill("input[name=confirm]", newPassword + "3");
        await x.click("[data-testid=set-password]");
        const bad = await x.locator("[data-testid=bad-token]").innerText();
        if (!/used|expired/.test(bad)) throw new Error("message: " + bad);
        await x.click("[data-testid=ask-again]");
        await x.waitForURL("**/forgot-password");
      } finally {
        await q.close();
      }
    });

    const me = await client(base, pat.email, newPassword); // a second session, elsewhere
    await step("profile: axe-clean; a wrong current password is said next to its field", async () => {
      await p.click("[data-testid=account]");
      await p.click("[data-testid=profile-link]");
      await p.waitForURL("**/profile");
      await p.locator("[data-testid=sessions] li").first().waitFor();
      if ((await p.title()) !== "My profile · Teleconsult") throw new Error("title: " + (await p.title()));
      await soft("axe: profile has no serious or critical violations", () => axe(p, "profile"));
      await p.fill("input[name=current_password]", "not-my-password-at-all");
      await p.fill("input[name=new_password]", newPassword + "-2");
      await p.fill("input[name=confirm_password]", newPassword + "-2");
      await p.click("[data-testid=change-password]");
      const err = await p.locator("[data-testid=err-current]").innerText();
      if (!/not your current password/.test(err)) throw new Error("error: " + err);
    });

    await step("profile: email notifications and my data are offered exactly when the server has them", async () => {
      const { user } = await me.get("/me");
      const toggle = (await p.locator("[data-testid=email-notifications]").count()) > 0;
      if (toggle !== (typeof user.email_notifications === "boolean")) throw new Error(`toggle shown: ${toggle}, field: ${user.email_notifications}`);
      const exp = await me.raw("GET", "/me/export");
      await p.waitForTimeout(300);
      const button = (await p.locator("[data-testid=export-data]").count()) > 0;
      if (button !== (exp.status !== 404)) throw new Error(`export button shown: ${button}, server answered ${exp.status}`);
      if (button) {
        const [download] = await Promise.all([p.waitForEvent("download"), p.click("[data-testid=export-data]")]);
        const data = JSON.parse(readFileSync(await download.path(), "utf8"));
        if (data.user?.email !== pat.email) throw new Error("the download is not this patient's data");
      }
    });

    await step("profile: signing out everywhere else ends the other session", async () => {
      await p.reload();
      await p.locator("[data-testid=sessions] li").nth(1).waitFor();
      const current = await p.locator("[data-testid=sessions] li[data-current=true]").count();
      if (current !== 1) throw new Error(`${current} sessions marked as this device`);
      await p.click("[data-testid=end-others]");
      await p.waitForFunction(() => document.querySelectorAll("[data-testid=sessions] li").length === 1);
      const r = await fetch(base + "/api/v1/auth/refresh", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: me.session.refresh_token }) });
      if (r.status < 400) throw new Error(`the other session still refreshes (${r.status})`);
    });

    await step("profile: the language is the account's, and the app follows it at sign-in", async () => {
      await p.selectOption("[data-testid=profile-locale]", "zh");
      await p.click("[data-testid=save-profile]");
      await p.waitForFunction(() => document.documentElement.lang === "zh-CN");
      const again = await client(base, pat.email, newPassword);
      if ((await again.get("/me")).user.locale !== "zh") throw new Error("the account's language was not saved");
      // A fresh browser in English: signing in switches to the account's Chinese.
      const q = await browser.newContext(desktop);
      const x = await q.newPage();
      try {
        await signIn(x, base, pat.email, newPassword, "**/doctors");
        await x.waitForFunction(() => document.documentElement.lang === "zh-CN");
        const nav = await x.locator("nav.mainnav").innerText();
        if (/[A-Za-z]{3,}/.test(nav)) throw new Error("English in the navigation: " + nav);
      } finally {
        await q.close();
      }
      await p.selectOption("[data-testid=profile-locale]", "en");
      await p.click("[data-testid=save-profile]");
      await p.waitForFunction(() => document.documentElement.lang === "en");
    });

    await step("profile: email notifications are switched off and on, and saved", async () => {
      if (!(await p.locator("[data-testid=email-notifications]").count())) return; // the server does not have them
      const box = p.locator("input[name=email_notifications]");
      const was = await box.isChecked();
      await box.setChecked(!was);
      await p.click("[data-testid=save-profile]");
      await p.locator("[data-testid=profile-saved]").waitFor();
      const again = await client(base, pat.email, newPassword);
      if ((await again.get("/me")).user.email_notifications !== !was) throw new Error("the server did not save the choice");
      await box.setChecked(was);
      await p.click("[data-testid=save-profile]");
    });

    await step("my data: a patient asks for deletion and an admin confirms it; the account can no longer sign in", async () => {
      const { account: dana, api: danaApi } = await newPatient(base, "Dana Delete");
      const has = await fetch(base + "/api/v1/openapi.json").then((r) => r.json()).then((j) => !!j.paths?.["/me/deletion-request"]?.post);
      const q = await browser.newContext(desktop);
      const x = await q.newPage();
      x.setDefaultTimeout(STEP);
      try {
        await signIn(x, base, dana.email, dana.password, "**/doctors");
        await x.goto(base + "/profile");
        await x.locator("[data-testid=sessions] li").first().waitFor();
        await x.waitForTimeout(300);
        const shown = (await x.locator("[data-testid=delete-account]").count()) > 0;
        if (shown !== has) throw new Error(`deletion offered: ${shown}, server has it: ${has}`);
        if (!has) return;
        await x.click("[data-testid=delete-account]");
        await x.click("[data-testid=confirm-delete]");
        await x.locator("[data-testid=deletion-pending]").waitFor();
        const { user } = await danaApi.get("/me");
        if (!user.deletion_requested_at) throw new Error("the server has no deletion request");
        // The admin confirms it.
        const y = await q.browser().newContext(desktop);
        const a = await y.newPage();
        a.setDefaultTimeout(STEP);
        try {
          await signIn(a, base, ADMIN.email, ADMIN.password, "**/admin");
          await a.goto(base + "/admin/users");
          await a.fill("input[name=q]", dana.email);
          await a.selectOption("select[name=status-filter]", "deletion");
          await a.click("[data-testid=search]");
          const row = a.locator(`[data-testid=users] li[data-email="${dana.email}"]`);
          await row.locator("[data-testid=deletion-tag]").waitFor();
          await row.locator("[data-testid=anonymise]").click();
          const warn = await row.locator("[data-testid=confirm-anonymise]").innerText();
          if (!/cannot be undone/.test(warn)) throw new Error("warning: " + warn);
          await row.locator("[data-testid=confirm-anonymise-yes]").click();
          await a.locator("[data-testid=notice]").waitFor();
        } finally {
          await y.close();
        }
        const r = await fetch(base + "/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: dana.email, password: dana.password }) });
        if (r.status < 400) throw new Error(`the deleted account still signs in (${r.status})`);
      } finally {
        await q.close();
      }
    });

    await step("account screens at 390 px: profile, forgot and reset fit, axe-clean", async () => {
      const ph = await browser.newContext(phone);
      const m = await ph.newPage();
      m.setDefaultTimeout(STEP);
      const screen = async (name, key) => {
        await m.waitForTimeout(200);
        await fitsWidth(m);
        if (key) await inView(m, key);
        await m.screenshot({ path: join(shots, `phone-${name}.png`) });
        await soft(`axe at 390 px: ${name}`, () => axe(m, name));
      };
      try {
        await m.goto(base + "/forgot-password");
        await screen("forgot-password", "button[type=submit]");
        await m.goto(base + "/reset-password?token=x");
        await screen("reset-password", "button[type=submit]");
        await signIn(m, base, pat.email, newPassword, "**/doctors");
        await m.goto(base + "/profile");
        await m.locator("[data-testid=sessions] li").first().waitFor();
        await screen("profile", "[data-testid=save-profile]");
      } finally {
        await ph.close();
      }
    });
  } catch {
    /* reported by step */
  } finally {
    await c.close();
  }
}
