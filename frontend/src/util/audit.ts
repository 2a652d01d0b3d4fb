// The audit log as the console shows and exports it: entries filtered by
// action and dates (on the client too, so the filter holds whether or not
// the server applies it), people named instead of ids, and the rows of the
// CSV export.
import type { AuditEntry, AuditFilter } from "@/api/admin";
import { toCsv } from "@/util/csv";

/** matches tells whether an entry passes the filter's action and date range (from inclusive, to exclusive). */
export function matches(e: AuditEntry, f: AuditFilter): boolean {
  if (f.action && e.action !== f.action && !e.action.startsWith(f.action + ".")) return false;
  const at = Date.parse(e.created_at);
  if (f.from && at < Date.parse(f.from)) return false;
  if (f.to && at >= Date.parse(f.to)) return false;
  if (f.actor_id && e.actor_id !== f.actor_id) return false;
  if (f.target_type && e.target_type !== f.target_type) return false;
  if (f.target_id && e.target_id !== f.target_id) return false;
  return true;
}

/** reasonOf is the reason stated for an access, when the entry has one. */
export function reasonOf(e: AuditEntry): string {
  const r = e.details?.reason;
  return typeof r === "string" ? r : "";
}

export type Names = Record<string, string | undefined>;

export const auditHeader = ["time", "actor_id", "actor", "actor_role", "action", "target_type", "target_id", "reason", "details", "request_id"];

/** auditRows are the CSV rows of entries: ids and names both, the reason apart, the other details as JSON. */
export function auditCsv(entries: AuditEntry[], names: Names = {}): string {
  const rows = entries.map((e) => {
    const { reason: _r, ...rest } = e.details ?? {};
    return [e.created_at, e.actor_id, names[e.actor_id] ?? "", e.actor_role, e.action, e.target_type, e.target_id, reasonOf(e), Object.keys(rest).length ? rest : "", e.request_id];
  });
  return toCsv(auditHeader, rows);
}

/**
 * collect pages through the log with the filter until there is no next
 * page or max entries are gathered, keeping only the entries the filter
 * matches. It says whether it stopped early.
 */
export async function collect(
  fetchPage: (cursor: string | undefined) => Promise<{ items: AuditEntry[]; next_cursor: string | null }>,
  f: AuditFilter,
  max = 10000,
): Promise<{ entries: AuditEntry[]; truncated: boolean }> {
  const entries: AuditEntry[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    entries.push(...page.items.filter((e) => matches(e, f)));
    if (!page.next_cursor) return { entries, truncated: false };
    if (entries.length >= max) return { entries: entries.slice(0, max), truncated: true };
    cursor = page.next_cursor;
  }
}

/**
 * dayRange turns the date fields of a filter form ("YYYY-MM-DD", in the
 * viewer's zone) into instants: from the start of the first day to the
 * start of the day after the last, so the last day counts whole.
 */
export function dayRange(fromDay: string, toDay: string): { from?: string; to?: string } {
  const at = (d: string, plus = 0) => {
    const [y, m, day] = d.split("-").map(Number);
    return new Date(y, m - 1, day + plus).toISOString();
  };
  return { from: fromDay ? at(fromDay) : undefined, to: toDay ? at(toDay, 1) : undefined };
}
