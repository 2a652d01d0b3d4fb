// Turns what went wrong into what a person can act on: a sentence in the
// chosen language for the whole form, and a message per field (from the
// contract's 422 details.fields) to show next to the field itself. The
// server's field messages are English sentences from a small, known set;
// each is recognized and translated, and an unknown one is shown as sent
// rather than dropped.
import { ApiError } from "@/api/http";

type T = (key: string, named?: Record<string, unknown>) => string;

/** Patterns of the server's field messages, each with its catalogue key (under errors.field). */
const patterns: Array<[RegExp, string, (m: RegExpExecArray) => Record<string, unknown>]> = [
  [/^is required/, "required", () => ({})],
  [/^must not be empty$/, "required", () => ({})],
  [/^must be an email address$/, "email", () => ({})],
  [/^must be at least (\d+) characters$/, "minChars", (m) => ({ n: Number(m[1]) })],
  [/^must be at most (\d+) characters$/, "maxChars", (m) => ({ n: Number(m[1]) })],
  [/^must be at least (\d+)$/, "min", (m) => ({ n: Number(m[1]) })],
  [/^must be at most (\d+)$/, "max", (m) => ({ n: Number(m[1]) })],
  [/^must be between (\d+) and (\d+)$/, "between", (m) => ({ min: Number(m[1]), max: Number(m[2]) })],
  [/^must be an IANA time zone/, "zone", () => ({})],
  [/^must be a time of day/, "clock", () => ({})],
  [/^must be after start$/, "afterStart", () => ({})],
  [/^must be after starts_at$/, "afterStart", () => ({})],
  [/^must be after from$/, "afterStart", () => ({})],
  [/^overlaps rules\[(\d+)\]/, "overlaps", (m) => ({ row: Number(m[1]) + 1 })],
  [/^lies in the past or too soon/, "past", () => ({})],
  [/^lies more than (\d+) days ahead/, "horizon", (m) => ({ n: Number(m[1]) })],
  [/^is not one of the doctor's free slots$/, "notFree", () => ({})],
  [/^falls in the doctor's time off$/, "timeOff", () => ({})],
  [/^time off may last at most a year$/, "maxYear", () => ({})],
  [/^must not be only spaces$/, "spaces", () => ({})],
  [/^must not be your email address$/, "notEmail", () => ({})],
  [/^is one of the most common passwords/, "common", () => ({})],
  [/^must be an image .* or a PDF/, "fileType", () => ({})],
  [/^is empty$/, "fileEmpty", () => ({})],
  [/^is (\d+)×(\d+) pixels; images are limited to (\d+) megapixels/, "pixels", (m) => ({ n: Number(m[3]) })],
  [/^must not contain NUL/, "nul", () => ({})],
  [/^must be valid UTF-8$/, "invalid", () => ({})],
];

/** fieldText translates one server field message; an unknown one is returned as sent. */
export function fieldText(t: T, message: string): string {
  for (const [re, key, named] of patterns) {
    const m = re.exec(message);
    if (m) return t("errors.field." + key, named(m));
  }
  return message;
}

/** fieldsOf returns the error's field messages, translated, keyed by the server's field path. */
export function fieldsOf(t: T, e: unknown): Record<string, string> {
  if (!(e instanceof ApiError)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.fields)) out[k] = fieldText(t, String(v));
  return out;
}

/**
 * errorText is the sentence for a failed action: specific to the code,
 * "you're offline" for no answer, and for invalid input a summary that
 * names the problem when there is a single one.
 */
export function explain(t: T, e: unknown): string {
  if (!(e instanceof ApiError)) return t("errors.generic");
  if (e.network) return t("errors.network");
  if (e.code === "invalid_request") {
    const fields = Object.values(fieldsOf(t, e));
    if (fields.length) return t("errors.fieldsBelow");
    return t("errors.invalid_request");
  }
  if (e.code === "rate_limited" && e.retryAfter > 0) return t("errors.rateLimitedFor", { n: e.retryAfter });
  const key = "errors." + e.code;
  const s = t(key);
  return s === key ? t("errors.generic") : s;
}

/** RuleField is where a schedule field path such as "rules[5].end" points. */
export interface RuleField {
  row: number;
  field: "weekday" | "start" | "end" | "row";
}

/** ruleField reads "rules[5].end" as row 5, field end; "rules[2]" as the whole row 2; anything else as null. */
export function ruleField(path: string): RuleField | null {
  const m = /^rules\[(\d+)\](?:\.(weekday|start|end))?$/.exec(path);
  if (!m) return null;
  return { row: Number(m[1]), field: (m[2] as RuleField["field"]) ?? "row" };
}

/** opensAt is when a consultation may start, from a refused start (409 conflict, details.opens_at). */
export function opensAt(e: unknown): string | null {
  if (!(e instanceof ApiError) || e.code !== "conflict") return null;
  const v = e.details?.opens_at;
  return typeof v === "string" ? v : null;
}
