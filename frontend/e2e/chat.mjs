// The consultation chat under stress: the network drops (offline shown
// within 2 s, messages queued and delivered exactly once, even across a
// reload), drafts survive navigation, long text is refused rather than
// cut, links are safe, images zoom and can be pasted.
import { join } from "node:path";
import { api, pngBase64, soft, step } from "./lib.mjs";

/** countInHistory counts stored messages with this exact text, over REST. */
async function countInHistory(client, roomId, text) {
  const page = await client.get(`/appointments/${roomId}/messages?limit=200`);
  return page.items.filter((m) => m.text === text).length;
}

export async function run(ctx) {
  const { base, shots, patient, doctor, patientCtx, roomId, roomURL } = ctx;
  const doctorApi = await api(base, "alice.chen@demo.teleconsult.app", "DemoDoctor!2026");
  const stamp = Date.now().toString(36);

  await step("going offline shows within 2 s, in the header, the room and the presence", async () => {
    await patient.goto(roomURL);
    await patient.waitForSelector("[data-testid=connection]:has-text('Connected')");
    await patient.waitForSelector(".members li[data-online=true]");
    const t0 = Date.now();
    await patientCtx.setOffline(true);
    await patient.waitForSelector("[data-testid=offline-banner]", { timeout: 2000 });
    await patient.waitForSelector("[data-testid=connection]:has-text('Offline')", { timeout: 2000 - (Date.now() - t0) });
    // Nobody is shown online while we cannot know.
    if (await patient.locator(".members li[data-online=true]").count()) throw new Error("the other party still shows online while we are offline");
    await patient.screenshot({ path: join(shots, "room-offline.png") });
  });

  const offlineA = `typed offline A ${stamp}`;
  await step("a message typed offline waits, and goes out once when the network is back", async () => {
    await patient.fill("[data-testid=composer]", offlineA);
    await patient.click("[data-testid=send]");
    await patient.waitForSelector(`.msg.mine:has-text("${offlineA}") [data-testid=msg-state]:has-text('Waiting for the connection')`);
    await patientCtx.setOffline(false);
    await doctor.waitForSelector(`.msg:has-text("${offlineA}")`);
    await patient.waitForSelector(`.msg.mine:has-text("${offlineA}"):not(.pending)`);
    await patient.waitForSelector("[data-testid=offline-banner]", { state: "detached" });
    if ((await countInHistory(doctorApi, roomId, offlineA)) !== 1) throw new Error("not stored exactly once");
  });

  const offlineB = `typed offline B ${stamp}`;
  const offlineC = `typed offline C ${stamp}`;
  await step("messages typed offline survive a reload and are delivered exactly once", async () => {
    await patientCtx.setOffline(true);
    await patient.waitForSelector("[data-testid=offline-banner]", { timeout: 2000 });
    for (const text of [offlineB, offlineC]) {
      await patient.fill("[data-testid=composer]", text);
      await patient.click("[data-testid=send]");
      await patient.waitForSelector(`.msg.mine:has-text("${text}") [data-testid=msg-state]`);
    }
    // Reloading while offline fails (no page to load); the outbox is in IndexedDB.
    await patient.reload().catch(() => {});
    await patientCtx.setOffline(false);
    await patient.goto(roomURL);
    for (const text of [offlineB, offlineC]) await doctor.waitForSelector(`.msg:has-text("${text}")`);
    await patient.waitForSelector(`.msg.mine:has-text("${offlineC}"):not(.pending)`);
    // Give a duplicate time to appear, then count in both places.
    await patient.waitForTimeout(500);
    for (const text of [offlineB, offlineC]) {
      const n = await countInHistory(doctorApi, roomId, text);
      if (n !== 1) throw new Error(`"${text}" stored ${n} times`);
      const shown = await doctor.locator(`.msg:has-text("${text}")`).count();
      if (shown !== 1) throw new Error(`"${text}" shown ${shown} times to the doctor`);
    }
  });

  await step("a burst of 70 messages with a reload in the middle arrives complete, each once", async () => {
    const texts = Array.from({ length: 70 }, (_, i) => `burst ${stamp} #${i + 1}`);
    for (const text of texts) {
      await patient.fill("[data-testid=composer]", text);
      await patient.press("[data-testid=composer]", "Enter");
    }
    await patient.reload();
    await patient.waitForSelector("[data-testid=connection]:has-text('Connected')");
    const deadline = Date.now() + 20_000;
    let counts = [];
    for (;;) {
      const page = await doctorApi.get(`/appointments/${roomId}/messages?limit=200`);
      counts = texts.map((t) => page.items.filter((m) => m.text === t).length);
      if (counts.every((n) => n >= 1) || Date.now() > deadline) break;
      await patient.waitForTimeout(500);
    }
    const missing = counts.filter((n) => n === 0).length;
    const doubled = counts.filter((n) => n > 1).length;
    if (missing || doubled) throw new Error(`${missing} of 70 missing, ${doubled} stored twice`);
    await patient.waitForSelector(`.msg.mine:has-text("${texts[69]}"):not(.pending)`);
  });

  await step("a draft survives leaving the room and coming back", async () => {
    const draft = `half a thought ${stamp}`;
    await patient.fill("[data-testid=composer]", draft);
    await patient.waitForTimeout(400); // drafts are saved a moment after typing stops
    await patient.goto(base + "/appointments");
    await patient.goto(roomURL);
    await patient.waitForFunction((d) => document.querySelector("[data-testid=composer]")?.value === d, draft);
    await patient.fill("[data-testid=composer]", "");
    await patient.waitForTimeout(400);
  });

  await step("an ended session is explained, and signing in again returns to the room with the draft", async () => {
    const draft = `kept across sign-in ${stamp}`;
    await patient.fill("[data-testid=composer]", draft);
    await patient.waitForTimeout(400);
    // The session ends elsewhere (signed out on another device, or expired).
    await patient.evaluate(() => fetch("/api/v1/auth/logout", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }));
    await patient.reload();
    await patient.waitForURL("**/login?**");
    await patient.waitForSelector("[data-testid=expired]");
    await patient.fill("input[name=email]", ctx.patientAccount.email);
    await patient.fill("input[name=password]", ctx.patientAccount.password);
    await patient.click("button[type=submit]");
    await patient.waitForURL(roomURL);
    await patient.waitForFunction((d) => document.querySelector("[data-testid=composer]")?.value === d, draft);
    await patient.fill("[data-testid=composer]", "");
    await patient.waitForTimeout(400);
  });

  await step("a 4,001-character text is not cut: the count is shown and sending waits for a fix", async () => {
    const long = "x".repeat(4001);
    await patient.fill("[data-testid=composer]", long);
    const value = await patient.inputValue("[data-testid=composer]");
    if (value.length !== 4001) throw new Error(`the composer holds ${value.length} characters`);
    await patient.waitForSelector("[data-testid=counter]:has-text('1 characters too long')");
    if (!(await patient.isDisabled("[data-testid=send]"))) throw new Error("send is enabled for a text over the limit");
    await patient.keyboard.press("End");
    await patient.keyboard.press("Backspace");
    if (await patient.isDisabled("[data-testid=send]")) throw new Error("send stays disabled at the limit");
    await patient.fill("[data-testid=composer]", "");
  });

  await step("links are clickable and safe; script links stay text", async () => {
    const text = `Read https://example.org/asthma?x=${stamp} and javascript:alert(1)`;
    await patient.fill("[data-testid=composer]", text);
    await patient.click("[data-testid=send]");
    const link = doctor.locator(`.msg a[href="https://example.org/asthma?x=${stamp}"]`);
    await link.waitFor();
    const rel = await link.getAttribute("rel");
    const target = await link.getAttribute("target");
    if (!/noopener/.test(rel) || !/noreferrer/.test(rel) || !/nofollow/.test(rel) || target !== "_blank") throw new Error(`rel=${rel} target=${target}`);
    if (await doctor.locator(".msg a[href^='javascript']").count()) throw new Error("a javascript: link was made clickable");
  });

  await step("an image upload states the limit, shows up for the other side, and zooms (Esc closes)", async () => {
    const help = await patient.locator("[data-testid=counter]").innerText();
    if (!/up to 10 MB/.test(help)) throw new Error("the attachment limit is not stated: " + help);
    await patient.setInputFiles("[data-testid=file]", { name: `scan-${stamp}.png`, mimeType: "image/png", buffer: Buffer.from(pngBase64, "base64") });
    const thumb = doctor.locator(`[data-testid=thumb][aria-label*="scan-${stamp}.png"]`);
    await thumb.waitFor();
    await thumb.click();
    await doctor.waitForSelector("[data-testid=lightbox][open]");
    await doctor.keyboard.press("Escape");
    await doctor.waitForSelector("[data-testid=lightbox]", { state: "detached" });
  });

  await step("pasting an image into the composer attaches it", async () => {
    const before = await doctor.locator("[data-testid=thumb]").count();
    await patient.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], "image.png", { type: "image/png" }));
      const ta = document.querySelector("[data-testid=composer]");
      ta.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    }, pngBase64);
    await doctor.waitForFunction((n) => document.querySelectorAll("[data-testid=thumb]").length > n, before);
  });

  await soft("search while offline says offline, not that no doctor matches", async () => {
    await patient.goto(base + "/doctors");
    await patient.locator(".doctor").first().waitFor();
    await patientCtx.setOffline(true);
    await patient.fill("input[name=q]", "Omar");
    await patient.waitForSelector("[data-testid=doctors-error]:has-text('offline')");
    if (await patient.locator("[data-testid=no-doctors]").count()) throw new Error("offline shown as an empty result");
    await patientCtx.setOffline(false);
    await patient.click("[data-testid=doctors-error] button");
    await patient.locator(".doctor", { hasText: "Omar" }).waitFor();
  });
}
