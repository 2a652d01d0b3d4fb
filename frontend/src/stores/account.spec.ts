import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nextTick } from "vue";
import { createPinia, setActivePinia } from "pinia";
import { http } from "@/api/http";
import { i18n, setLocale } from "@/i18n";
import { useAuth } from "./auth";
import { followAccountLanguage } from "./account";

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const locale = () => (i18n.global.locale as unknown as { value: string }).value;

describe("the account's language", () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    setLocale("en");
  });
  afterEach(() => {
    vi.restoreAllMocks();
    http.setToken("");
    setLocale("en");
  });

  it("becomes the app's at sign-in", async () => {
    vi.spyOn(globalThis, "fetch").mockResolvedValue(
      json({ access_token: "t", refresh_token: "", expires_in: 900, user: { id: "u1", email: "a@b.c", name: "A", role: "patient", time_zone: "UTC", locale: "zh" } }),
    );
    await useAuth().login("a@b.c", "pw");
    expect(locale()).toBe("zh");
  });

  it("follows a change of the app's language while signed in", async () => {
    const auth = useAuth();
    followAccountLanguage();
    auth.apply({ access_token: "t", refresh_token: "", expires_in: 900, user: { id: "u1", email: "a@b.c", name: "A", role: "patient", time_zone: "UTC", locale: "en" } });
    const fetch = vi.spyOn(globalThis, "fetch").mockResolvedValue(json({ user: {} }));
    setLocale("zh");
    await nextTick();
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0] as [string, RequestInit];
    expect(url).toBe("/api/v1/me");
    expect(init.method).toBe("PATCH");
    expect(JSON.parse(String(init.body))).toEqual({ locale: "zh" });
    expect(auth.user?.locale).toBe("zh");
  });
});
