// Browser notifications for calls and messages while the tab is hidden.
// Permission is asked only after the person chooses to turn them on (a
// banner on their appointments); nothing waits on the answer.

export type Permission = "granted" | "denied" | "default" | "unsupported";

export function permission(): Permission {
  if (typeof Notification === "undefined") return "unsupported";
  return Notification.permission as Permission;
}

export async function askPermission(): Promise<Permission> {
  if (typeof Notification === "undefined") return "unsupported";
  try {
    return (await Notification.requestPermission()) as Permission;
  } catch {
    return permission();
  }
}

const DISMISSED = "notify.dismissed";

export function bannerDismissed(): boolean {
  try {
    return localStorage.getItem(DISMISSED) === "1";
  } catch {
    return true;
  }
}

export function dismissBanner() {
  try {
    localStorage.setItem(DISMISSED, "1");
  } catch {
    /* storage unavailable */
  }
}

/**
 * notifyHidden shows a system notification when the page is hidden and
 * the person allowed it. Returns a function that closes it (or nothing).
 */
export function notifyHidden(title: string, body: string, tag: string, onClick?: () => void, sticky = false): () => void {
  if (typeof document === "undefined" || document.visibilityState !== "hidden" || permission() !== "granted") return () => {};
  try {
    const n = new Notification(title, { body, tag, requireInteraction: sticky, icon: "/favicon.svg" });
    n.onclick = () => {
      window.focus();
      onClick?.();
      n.close();
    };
    return () => n.close();
  } catch {
    return () => {};
  }
}
