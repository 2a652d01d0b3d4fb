import { describe, expect, it } from "vitest";
import { i18n } from "@/i18n";
import { callText, clockSpan, previewText, systemText } from "@/util/calls";

const en = (k: string, p?: Record<string, unknown>) => (i18n.global.t as (k: string, p?: Record<string, unknown>) => string)(k, p ?? {});
i18n.global.locale.value = "en";

describe("call lines", () => {
  it("say how the call ended, with its media", () => {
    expect(callText(en, { media: "video", outcome: "missed", duration_s: 0 })).toBe("Missed video call");
    expect(callText(en, { media: "audio", outcome: "declined", duration_s: 0 })).toBe("Declined audio call");
    expect(callText(en, { media: "video", outcome: "cancelled", duration_s: 0 })).toBe("Cancelled video call");
    expect(callText(en, { media: "video", outcome: "completed", duration_s: 185 })).toBe("Video call · 3:05");
    expect(callText(en, { media: "audio", outcome: "completed", duration_s: 3723 })).toBe("Audio call · 1:02:03");
  });
  it("fall back to the media for an outcome this version does not know", () => {
    expect(callText(en, { media: "audio", outcome: "transferred", duration_s: 4 })).toBe("Audio call");
  });
  it("count minutes and seconds", () => {
    expect(clockSpan(0)).toBe("0:00");
    expect(clockSpan(59.9)).toBe("0:59");
    expect(clockSpan(600)).toBe("10:00");
  });
});

describe("consultation steps and previews", () => {
  it("are timeline notes", () => {
    expect(systemText(en, { event: "started" })).toBe("Consultation started");
    expect(systemText(en, { event: "completed" })).toBe("Consultation completed");
    expect(systemText(en, { event: "cancelled" })).toBe("Consultation cancelled");
    expect(systemText(en, null)).toBe("Consultation updated");
  });
  it("preview the newest message in one line", () => {
    const at = "2026-01-01T00:00:00Z";
    expect(previewText(en, { seq: 1, kind: "text", sender_id: "a", text: "Hello\n  there", created_at: at })).toBe("Hello there");
    expect(previewText(en, { seq: 1, kind: "attachment", sender_id: "a", text: "scan.png", created_at: at })).toBe("File: scan.png");
    expect(previewText(en, { seq: 1, kind: "call", sender_id: "a", text: "", created_at: at })).toBe("Call");
    expect(previewText(en, null)).toBe("");
    expect([...previewText(en, { seq: 1, sender_id: "a", text: "x".repeat(200), created_at: at })].length).toBe(80);
  });
});
