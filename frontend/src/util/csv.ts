// CSV as spreadsheets read it (RFC 4180): fields joined by commas, lines by
// CRLF; a field with a comma, a quote, a line break or edge spaces is
// quoted, its quotes doubled. A text that a spreadsheet would run as a
// formula (=, +, -, @, tab, CR first) is prefixed with ' so an exported
// audit log cannot carry a formula into someone's spreadsheet.

/** csvField is one value as a CSV field. Objects are written as JSON. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  let s = typeof v === "object" ? JSON.stringify(v) : String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]|^\s|\s$/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/** toCsv is a header line and one line per row, each line ending in CRLF. */
export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(",") + "\r\n").join("");
}

/** csvBlob is the CSV as a download, with a BOM so spreadsheets read it as UTF-8. */
export function csvBlob(csv: string): Blob {
  return new Blob(["\ufeff" + csv], { type: "text/csv;charset=utf-8" });
}
