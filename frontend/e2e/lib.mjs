// Helpers shared by the browser suites: reporting, sign-in, the phone
// layout check and the accessibility check (axe-core, injected into the
// page from the npm package).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const results = { passed: 0, failed: 0 };

export function check(name, ok, detail = "") {
  ok ? results.passed++ : results.failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ": " + detail : ""}`);
}

/** step runs one named check; a failure is reported and stops the suite it belongs to. */
export async function step(name, fn) {
  try {
    await fn();
    check(name, true);
  } catch (err) {
    check(name, false, (err && err.message ? err.message : String(err)).split("\n")[0]);
    throw err;
  }
}

/** soft runs one named check; a failure is reported and the suite goes on. */
export async function soft(name, fn) {
  try {
    await fn();
    check(name, true);
  } catch (err) {
    check(name, false, (err && err.message ? err.message : String(err)).split("\n")[0]);
  }
}

export async function signIn(page, base, email, password, landing) {
  await page.goto(base + "/login");
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForURL(landing);
}

/** api signs in over REST and returns a small client with the access token. */
export async function api(base, email, password) {
  const r = await fetch(base + "/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }) });
  if (!r.ok) throw new Error(`sign-in of ${email} failed: ${r.status}`);
  const { access_token, user } = await r.json();
  const call = async (method, path, body) => {
    const res = await fetch(base + "/api/v1" + path, {
      method,
      headers: { Authorization: "Bearer " + access_token, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return json;
  };
  return { user, get: (p) => call("GET", p), post: (p, b) => call("POST", p, b ?? {}) };
}

/**
 * fitsWidth asserts the page does not scroll sideways and every visible
 * control lies inside the viewport's width.
 */
export async function fitsWidth(page) {
  const r = await page.evaluate(() => {
    const w = window.innerWidth;
    const out = [];
    const sel = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1']), label.button";
    for (const el of document.querySelectorAll(sel)) {
      const b = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (b.width === 0 || b.height === 0 || style.visibility === "hidden") continue;
      // Visually hidden (screen-reader only) controls are 1 px and clipped.
      if (b.width <= 1 && b.height <= 1) continue;
      if (b.left < -0.5 || b.right > w + 0.5) out.push(`${el.tagName.toLowerCase()}${el.dataset.testid ? "[" + el.dataset.testid + "]" : ""} "${(el.textContent || el.getAttribute("aria-label") || "").trim().slice(0, 30)}" ${Math.round(b.left)}..${Math.round(b.right)}`);
    }
    return { scroll: document.scrollingElement.scrollWidth, width: w, out };
  });
  if (r.scroll > r.width) throw new Error(`the page scrolls sideways: ${r.scroll} > ${r.width}`);
  if (r.out.length) throw new Error(`controls outside the ${r.width} px viewport: ${r.out.slice(0, 4).join("; ")}`);
}

/** inView asserts an element is fully inside the viewport (both ways). */
export async function inView(page, selector) {
  const b = await page.locator(selector).first().boundingBox();
  const vp = page.viewportSize();
  if (!b) throw new Error(`${selector} is not visible`);
  if (b.x < 0 || b.y < 0 || b.x + b.width > vp.width + 0.5 || b.y + b.height > vp.height + 0.5) {
    throw new Error(`${selector} is outside the viewport: ${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}×${Math.round(b.height)}`);
  }
}

/** axe runs axe-core on the page and fails on serious or critical violations. */
export async function axe(page, label) {
  const has = await page.evaluate(() => typeof window.axe !== "undefined");
  // Evaluated through the DevTools protocol: the app's CSP (script-src 'self') stays on.
  if (!has) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  });
  if (violations.length) throw new Error(`${label}: ${violations.join(" | ")}`);
}

/** pngBytes is a valid 1×1 PNG, for uploads. */
export const pngBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
