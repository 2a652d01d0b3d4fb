import { describe, expect, it } from "vitest";
import { dayKey, groupByDay } from "./time";

describe("slot days", () => {
  it("groups slots by the viewer's local day, not UTC", () => {
    const slots = [
      { starts_at: "2026-03-02T23:30:00Z", ends_at: "2026-03-03T00:00:00Z" },
      { starts_at: "2026-03-03T00:30:00Z", ends_at: "2026-03-03T01:00:00Z" },
      { starts_at: "2026-03-02T08:00:00Z", ends_at: "2026-03-02T08:30:00Z" },
    ];
    const ny = groupByDay(slots, "America/New_York");
    expect(ny.map((d) => [d.day, d.slots.length])).toEqual([["2026-03-02", 3]]);
    const shanghai = groupByDay(slots, "Asia/Shanghai");
    expect(shanghai.map((d) => [d.day, d.slots.length])).toEqual([["2026-03-02", 1], ["2026-03-03", 2]]);
  });
  it("keys a day in a zone", () => {
    expect(dayKey("2026-11-01T03:00:00Z", "America/Los_Angeles")).toBe("2026-10-31");
  });
});
