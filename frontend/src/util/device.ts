// A signed-in device named from its browser's user agent ("Chrome on
// Windows"); no guessing beyond the common browsers and systems.
export function deviceName(ua: string): string {
  if (!ua) return "";
  const browser =
    /Edg\//.test(ua) ? "Edge" : /OPR\//.test(ua) ? "Opera" : /Firefox\//.test(ua) ? "Firefox" : /(Chrome|Chromium|HeadlessChrome)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "";
  const os = /iPhone|iPad/.test(ua) ? "iOS" : /Android/.test(ua) ? "Android" : /Windows/.test(ua) ? "Windows" : /Mac OS X|Macintosh/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
  if (browser && os) return `${browser} · ${os}`;
  return browser || os || ua.slice(0, 60);
}
