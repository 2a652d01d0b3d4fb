// Time zones as people read them: "Shanghai (UTC+8)" rather than "CST",
// which names three different zones. The offset is the one in force at
// the given instant (summer time included).

/** utcOffset is the zone's offset at instant, as "UTC+8", "UTC−3:30" or "UTC". */
export function utcOffset(zone: string, at = new Date()): string {
  let name = "";
  try {
    name = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
      .formatToParts(at)
      .find((p) => p.type === "timeZoneName")?.value ?? "";
  } catch {
    return "";
  }
  // "GMT+08:00" → "UTC+8", "GMT-03:30" → "UTC−3:30", "GMT" → "UTC".
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!m) return "UTC";
  const hours = String(Number(m[2]));
  return `UTC${m[1] === "-" ? "−" : "+"}${hours}${m[3] === "00" ? "" : ":" + m[3]}`;
}

/** city is the place part of an IANA name: "America/Argentina/Buenos_Aires" → "Buenos Aires". */
export function city(zone: string): string {
  return (zone.split("/").pop() ?? zone).replace(/_/g, " ");
}

/**
 * zoneLabel names a zone for people in a locale: the city and the offset
 * in English ("Shanghai (UTC+8)"); in Chinese the zone's own localized name
 * from the browser's data and the offset ("中国标准时间 (UTC+8)"), since
 * city names of IANA ids are English only.
 */
export function zoneLabel(zone: string, locale: string, at = new Date()): string {
  return zoneName(zone, locale, at, false);
}

/** zoneOption is zoneLabel for a list of every zone: in Chinese the city follows, to tell zones of one name apart. */
export function zoneOption(zone: string, locale: string, at = new Date()): string {
  return zoneName(zone, locale, at, true);
}

function zoneName(zone: string, locale: string, at: Date, withCity: boolean): string {
  if (!zone) return "";
  const offset = utcOffset(zone, at);
  if (zone === "UTC" || zone === "Etc/UTC") return "UTC";
  if (locale.startsWith("zh")) {
    try {
      const name = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: "longGeneric" })
        .formatToParts(at)
        .find((p) => p.type === "timeZoneName")?.value;
      if (name && !/^GMT|^UTC/.test(name)) return `${name} (${offset})` + (withCity ? ` · ${city(zone)}` : "");
    } catch {
      /* fall through */
    }
  }
  return `${city(zone)} (${offset})`;
}

/** allZones lists the browser's IANA zones (a short list if it cannot say). */
export function allZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  try {
    const z = intl.supportedValuesOf?.("timeZone");
    if (z?.length) return z;
  } catch {
    /* older browser */
  }
  return ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Shanghai", "Asia/Tokyo"];
}
