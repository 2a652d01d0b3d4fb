import { createI18n } from "vue-i18n";
import { en } from "@/locales/en";
import { zh } from "@/locales/zh";

export type Lang = "en" | "zh";

const saved = typeof localStorage !== "undefined" ? localStorage.getItem("lang") : null;
const browser = typeof navigator !== "undefined" && navigator.language.startsWith("zh") ? "zh" : "en";
const initial: Lang = saved === "zh" || saved === "en" ? saved : browser;

export const i18n = createI18n({ legacy: false, locale: initial, fallbackLocale: "en", messages: { en, zh } });

/** htmlLang is the BCP 47 tag of a UI language, for <html lang> and Intl. */
export function htmlLang(l: string): string {
  return l === "zh" ? "zh-CN" : "en";
}

/** setLocale switches the UI language, remembers it, and tells the document. */
export function setLocale(l: string) {
  const lang: Lang = l === "zh" ? "zh" : "en";
  (i18n.global.locale as unknown as { value: string }).value = lang;
  try {
    localStorage.setItem("lang", lang);
  } catch {
    /* storage unavailable */
  }
  if (typeof document !== "undefined") document.documentElement.lang = htmlLang(lang);
}

if (typeof document !== "undefined") document.documentElement.lang = htmlLang(initial);

/** errorText turns a contract error code into a human sentence. */
export function errorText(t: (k: string) => string, code: string | undefined, fallback?: string): string {
  const key = "errors." + (code ?? "generic");
  const s = t(key);
  return s === key ? (fallback ?? t("errors.generic")) : s;
}

/** specialtyName shows a specialty in the UI language when the catalogue knows it, else as the doctor wrote it. */
export function specialtyName(t: (k: string) => string, te: (k: string) => boolean, s: string): string {
  const key = "specialty." + s.trim().toLowerCase().replace(/[^a-z]+/g, "_");
  return te(key) ? t(key) : s;
}

/** fileSize is a byte count for people: "840 KB", "10 MB". */
export function fileSize(t: (k: string, n: Record<string, unknown>) => string, bytes: number): string {
  if (bytes >= 1 << 20) return t("size.mb", { n: Math.round((bytes / (1 << 20)) * 10) / 10 });
  return t("size.kb", { n: Math.max(1, Math.ceil(bytes / 1024)) });
}

/** span is a length of time for people: "15 min", "48 h", "3 days". */
export function span(t: (k: string, n: Record<string, unknown>) => string, minutes: number): string {
  if (minutes >= 72 * 60 && minutes % (24 * 60) === 0) return t("span.days", { n: minutes / (24 * 60) });
  if (minutes >= 120 && minutes % 60 === 0) return t("span.hours", { n: minutes / 60 });
  return t("span.minutes", { n: minutes });
}
