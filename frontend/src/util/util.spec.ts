import { describe, expect, it } from "vitest";
import { segments } from "./links";
import { move } from "./roving";
import { utcOffset, zoneLabel } from "./zones";
import { explain, fieldText, fieldsOf, opensAt, ruleField } from "./errors";
import { dayMarks } from "./time";
import { ApiError } from "@/api/http";
import { en } from "@/locales/en";
import { zh } from "@/locales/zh";
import { createI18n } from "vue-i18n";

function translator(lang: "en" | "zh") {
  const i18n = createI18n({ legacy: false, locale: lang, messages: { en, zh } });
  return i18n.global.t as unknown as (k: string, n?: Record<string, unknown>) => string;
}

describe("links in messages", () => {
  it("turns http(s) URLs into links and keeps every other character as text", () => {
    const text = "See https://example.org/a?b=1 and www.example.com, not javascript:alert(1) <b>x</b>";
    const s = segments(text);
    expect(s.map((p) => p.text).join("")).toBe(text);
    const links = s.filter((p) => p.kind === "link");
    expect(links.map((l) => l.kind === "link" && l.href)).toEqual(["https://example.org/a?b=1", "http://www.example.com/"]);
    expect(s.some((p) => p.kind === "link" && p.text.includes("javascript"))).toBe(false);
  });

  it("leaves text without links alone", () => {
    expect(segments("hello")).toEqual([{ kind: "text", text: "hello" }]);
    expect(segments("")).toEqual([]);
  });
});

describe("keyboard grid", () => {
  const rows = [3, 0, 2];
  it("runs left and right through days, skipping empty ones", () => {
    expect(move(rows, { row: 0, col: 2 }, "ArrowRight")).toEqual({ row: 2, col: 0 });
    expect(move(rows, { row: 2, col: 0 }, "ArrowLeft")).toEqual({ row: 0, col: 2 });
    expect(move(rows, { row: 2, col: 1 }, "ArrowRight")).toEqual({ row: 2, col: 1 });
  });
  it("moves between days keeping the column where it can", () => {
    expect(move(rows, { row: 0, col: 2 }, "ArrowDown")).toEqual({ row: 2, col: 1 });
    expect(move(rows, { row: 2, col: 1 }, "ArrowUp")).toEqual({ row: 0, col: 1 });
  });
  it("goes to the ends with Home and End, and ignores other keys", () => {
    expect(move(rows, { row: 0, col: 1 }, "End")).toEqual({ row: 0, col: 2 });
    expect(move(rows, { row: 0, col: 1 }, "End", true)).toEqual({ row: 2, col: 1 });
    expect(move(rows, { row: 2, col: 1 }, "Home", true)).toEqual({ row: 0, col: 0 });
    expect(move(rows, { row: 0, col: 0 }, "a")).toBeNull();
  });
});

describe("time zones", () => {
  const winter = new Date("2026-01-15T12:00:00Z");
  it("names a zone by city and offset, not by an ambiguous abbreviation", () => {
    expect(zoneLabel("Asia/Shanghai", "en", winter)).toBe("Shanghai (UTC+8)");
    expect(zoneLabel("America/New_York", "en", winter)).toBe("New York (UTC−5)");
    expect(zoneLabel("Asia/Kolkata", "en", winter)).toBe("Kolkata (UTC+5:30)");
    expect(utcOffset("Europe/Berlin", new Date("2026-07-01T12:00:00Z"))).toBe("UTC+2");
  });
  it("names it in Chinese for the Chinese UI", () => {
    const label = zoneLabel("Asia/Shanghai", "zh-CN", winter);
    expect(label).toContain("UTC+8");
    expect(label).not.toMatch(/Shanghai|CST/);
  });
});

describe("errors", () => {
  const t = translator("en");
  const tz = translator("zh");
  const invalid = (fields: Record<string, string>) => new ApiError(422, "invalid_request", "some fields are invalid", { fields });

  it("translates the server's field messages, keeping unknown ones as sent", () => {
    expect(fieldText(t, "must be at least 10 characters")).toBe("Use at least 10 characters.");
    expect(fieldText(tz, "must be at least 10 characters")).toBe("至少需要 10 个字符。");
    expect(fieldText(tz, "overlaps rules[2] on the same weekday")).toBe("该时段与同一天第 3 行的时段重叠。");
    expect(fieldText(t, "something new")).toBe("something new");
  });

  it("maps schedule paths to a row and a field", () => {
    expect(ruleField("rules[5].end")).toEqual({ row: 5, field: "end" });
    expect(ruleField("rules[2]")).toEqual({ row: 2, field: "row" });
    expect(ruleField("time_zone")).toBeNull();
    expect(fieldsOf(t, invalid({ "rules[5].end": "must be after start" }))).toEqual({ "rules[5].end": "The end must be after the start." });
  });

  it("tells no answer from a refusal, and names the wait of a rate limit", () => {
    expect(explain(t, new ApiError(0, "network", ""))).toMatch(/offline or the server can't be reached/);
    expect(explain(t, new ApiError(429, "rate_limited", "", {}, 12))).toBe("Too many attempts. Please wait 12 seconds.");
    expect(explain(t, invalid({ email: "is required" }))).toBe("Please correct what is marked below.");
    expect(explain(t, new Error("x"))).toBe(en.errors.generic);
  });

  it("reads when a consultation may start from a refused start", () => {
    const e = new ApiError(409, "conflict", "the consultation can start at most 15m0s before its time", { opens_at: "2026-03-02T08:45:00Z" });
    expect(opensAt(e)).toBe("2026-03-02T08:45:00Z");
    expect(opensAt(new ApiError(409, "conflict", "", {}))).toBeNull();
  });
});

describe("day separators", () => {
  it("marks the first message of each day, with today and yesterday by name", () => {
    const now = new Date("2026-03-05T15:00:00Z");
    const marks = dayMarks(["2026-03-03T10:00:00Z", "2026-03-03T11:00:00Z", "2026-03-04T09:00:00Z", "2026-03-05T08:00:00Z", "2026-03-05T09:00:00Z"], "UTC", now);
    expect(marks).toEqual(["2026-03-03", "", "yesterday", "today", ""]);
  });
});

describe("the doctor's day", async () => {
  const { nextUp, lateBy, canMarkNoShow } = await import("./agenda");
  const at = (id: string, start: string, end: string, status = "booked") =>
    ({ id, starts_at: start, ends_at: end, status }) as unknown as import("@/api/types").Appointment;
  const day = [
    at("done", "2026-03-02T08:00:00Z", "2026-03-02T08:30:00Z", "completed"),
    at("late", "2026-03-02T09:00:00Z", "2026-03-02T09:30:00Z"),
    at("later", "2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z"),
  ];
  const now = Date.parse("2026-03-02T09:12:00Z");
  it("highlights the first consultation not over yet", () => {
    expect(nextUp(day, now)).toBe("late");
    expect(nextUp(day, Date.parse("2026-03-02T09:40:00Z"))).toBe("later");
    expect(nextUp(day, Date.parse("2026-03-02T11:00:00Z"))).toBe("");
  });
  it("counts the minutes a booked patient is late, and allows no-show only after the start", () => {
    expect(lateBy(day[1], now)).toBe(12);
    expect(lateBy(day[2], now)).toBe(0);
    expect(lateBy(day[0], now)).toBe(0);
    expect(canMarkNoShow(day[1], now)).toBe(true);
    expect(canMarkNoShow(day[2], now)).toBe(false);
    expect(canMarkNoShow(day[0], now)).toBe(false);
  });
});
