import { describe, expect, it } from "vitest";
import { csvField, toCsv } from "@/util/csv";
import { auditCsv, collect, matches, reasonOf } from "@/util/audit";
import { appointmentSeries, lastDays, messageSeries, noShowRate, total } from "@/util/stats";
import type { AuditEntry, Stats } from "@/api/admin";

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  id: "e1", actor_id: "a1", actor_role: "admin", action: "chat.read", target_type: "appointment", target_id: "ap1",
  request_id: "r1", details: null, created_at: "2030-03-05T10:00:00Z", ...over,
});

describe("CSV", () => {
  it("quotes commas, quotes, line breaks and edge spaces, and doubles quotes", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("cr\rlf")).toBe('"cr\rlf"');
    expect(csvField(" padded")).toBe('" padded"');
    expect(csvField(null)).toBe("");
    expect(csvField(undefined)).toBe("");
    expect(csvField(42)).toBe("42");
    expect(csvField({ a: 1, b: "x" })).toBe('"{""a"":1,""b"":""x""}"');
  });

  it("keeps formulas from running in a spreadsheet", () => {
    expect(csvField("=HYPERLINK(\"x\")")).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField("+1")).toBe("'+1");
    expect(csvField("@SUM")).toBe("'@SUM");
    expect(csvField(-3)).toBe("-3");
  });

  it("ends every line, the header's too, with CRLF", () => {
    expect(toCsv(["a", "b"], [[1, "x,y"], ["", null]])).toBe('a,b\r\n1,"x,y"\r\n,\r\n');
  });

  it("exports audit entries with names, the reason on its own and the other details as JSON", () => {
    const csv = auditCsv(
      [entry({ details: { reason: 'Complaint #12, "urgent"', limit: 200 } }), entry({ id: "e2", actor_id: "zz", action: "user.update" })],
      { a1: "Demo Admin" },
    );
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe("time,actor_id,actor,actor_role,action,target_type,target_id,reason,details,request_id");
    expect(lines[1]).toBe('2030-03-05T10:00:00Z,a1,Demo Admin,admin,chat.read,appointment,ap1,"Complaint #12, ""urgent""","{""limit"":200}",r1');
    expect(lines[2]).toBe("2030-03-05T10:00:00Z,zz,,admin,user.update,appointment,ap1,,,r1");
    expect(lines[3]).toBe("");
  });
});

describe("audit filter", () => {
  it("matches action (and its family), dates, actor and target", () => {
    const e = entry();
    expect(matches(e, {})).toBe(true);
    expect(matches(e, { action: "chat.read" })).toBe(true);
    expect(matches(e, { action: "chat" })).toBe(true);
    expect(matches(e, { action: "user.update" })).toBe(false);
    expect(matches(e, { from: "2030-03-05T00:00:00Z", to: "2030-03-06T00:00:00Z" })).toBe(true);
    expect(matches(e, { from: "2030-03-05T10:00:01Z" })).toBe(false);
    expect(matches(e, { to: "2030-03-05T10:00:00Z" })).toBe(false);
    expect(matches(e, { actor_id: "other" })).toBe(false);
    expect(matches(e, { target_id: "ap1", target_type: "appointment" })).toBe(true);
  });

  it("reads a stated reason", () => {
    expect(reasonOf(entry({ details: { reason: "Complaint" } }))).toBe("Complaint");
    expect(reasonOf(entry())).toBe("");
  });

  it("pages through the log and keeps only the matching entries", async () => {
    const pages: Record<string, { items: AuditEntry[]; next_cursor: string | null }> = {
      start: { items: [entry({ id: "1" }), entry({ id: "2", action: "user.update" })], next_cursor: "c2" },
      c2: { items: [entry({ id: "3" })], next_cursor: null },
    };
    const seen: Array<string | undefined> = [];
    const r = await collect(async (c) => (seen.push(c), pages[c ?? "start"]), { action: "chat.read" });
    expect(seen).toEqual([undefined, "c2"]);
    expect(r.entries.map((e) => e.id)).toEqual(["1", "3"]);
    expect(r.truncated).toBe(false);
    const capped = await collect(async (c) => pages[c ?? "start"], {}, 1);
    expect(capped).toEqual({ entries: [pages.start.items[0]], truncated: true });
  });
});

describe("dashboard data", () => {
  const now = new Date("2030-03-05T23:30:00Z");
  const base: Stats = { users: { patient: 3, doctor: 2, admin: 1 }, appointments: { booked: 4, completed: 6, no_show: 2 }, sockets_online: 2, messages_today: 9 };

  it("lists the last n UTC days, oldest first", () => {
    expect(lastDays(3, now)).toEqual(["2030-03-03", "2030-03-04", "2030-03-05"]);
    expect(lastDays(30, now)).toHaveLength(30);
  });

  it("spreads appointments per status over every day, missing days as zero", () => {
    const days = lastDays(3, now);
    const s: Stats = {
      ...base,
      appointments_by_day: [
        { date: "2030-03-05", total: 3, by_status: { booked: 1, completed: 1, no_show: 1 } },
        { date: "2030-03-03", total: 2, by_status: { cancelled: 2 } },
      ],
    };
    const series = appointmentSeries(s, days)!;
    expect(series.labels).toEqual(days);
    const by = Object.fromEntries(series.datasets.map((d) => [d.key, d.data]));
    expect(by).toEqual({ booked: [0, 0, 1], in_progress: [0, 0, 0], completed: [0, 0, 1], cancelled: [2, 0, 0], no_show: [0, 0, 1] });
    // Each day's stack adds up to its total.
    expect(days.map((_, i) => series.datasets.reduce((a, d) => a + d.data[i], 0))).toEqual([2, 0, 3]);
  });

  it("is absent until the server sends the by-day fields", () => {
    expect(appointmentSeries(base, lastDays(3, now))).toBeNull();
    expect(messageSeries(base, lastDays(3, now))).toBeNull();
    const m = messageSeries({ ...base, messages_by_day: [{ date: "2030-03-04", count: 7 }] }, lastDays(3, now))!;
    expect(m.datasets[0].data).toEqual([0, 7, 0]);
  });

  it("computes the no-show rate over the 30 days, or all time without them", () => {
    expect(noShowRate(base)).toEqual({ rate: 0.25, window: "all" });
    const s: Stats = { ...base, appointments_by_day: [{ date: "2030-03-05", total: 4, by_status: { completed: 3, no_show: 1 } }] };
    expect(noShowRate(s)).toEqual({ rate: 0.25, window: "30d" });
    expect(noShowRate({ ...base, appointments: { booked: 3 } })).toBeNull();
    expect(total(base.users)).toBe(6);
  });
});

describe("date filters", () => {
  it("cover whole local days, the last one included", async () => {
    const { dayRange } = await import("@/util/audit");
    const r = dayRange("2030-03-05", "2030-03-05");
    expect(new Date(r.from!).getDate()).toBe(5);
    expect(new Date(r.from!).getHours()).toBe(0);
    expect(Date.parse(r.to!) - Date.parse(r.from!)).toBe(86400_000);
    expect(dayRange("", "")).toEqual({ from: undefined, to: undefined });
  });
});

describe("device names", () => {
  it("name the browser and the system, or show the agent as sent", async () => {
    const { deviceName } = await import("@/util/device");
    expect(deviceName("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")).toBe("Chrome · Windows");
    expect(deviceName("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1")).toBe("Safari · iOS");
    expect(deviceName("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")).toBe("Firefox · Linux");
    expect(deviceName("curl/8.5.0")).toBe("curl/8.5.0");
    expect(deviceName("")).toBe("");
  });
});

describe("consultation record lines", () => {
  it("name kinds, call outcomes and lengths, and system events", async () => {
    const { callParts, kindOf, systemKey } = await import("@/util/record");
    expect(kindOf({ kind: "call" })).toBe("call");
    expect(kindOf({ attachment: { id: "a" } })).toBe("attachment");
    expect(kindOf({})).toBe("text");
    expect(callParts({ media: "video", outcome: "completed", duration_s: 754 })).toEqual({ key: "completed", video: true, duration: "12:34" });
    expect(callParts({ media: "audio", outcome: "missed" })).toEqual({ key: "missed", video: false, duration: "0:00" });
    expect(callParts({ outcome: "exploded", duration_s: 5 }).key).toBe("other");
    expect(callParts(null).key).toBe("other");
    expect(systemKey("cancelled")).toBe("cancelled");
    expect(systemKey("rebooted")).toBe("other");
    expect(systemKey(undefined)).toBe("other");
  });
});
