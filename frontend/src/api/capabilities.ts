// What the server offers, read from the API description it serves
// (/api/v1/openapi.json), so a screen can leave out an action the server
// does not have yet without trying it (some actions are audited, such as
// an export). No answer: assume it is there; the screen hides the action
// if it then answers 404.
let spec: Promise<Record<string, Record<string, unknown>> | null> | null = null;

function paths(): Promise<Record<string, Record<string, unknown>> | null> {
  spec ??= fetch("/api/v1/openapi.json", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null))
    .then((j) => (j && typeof j.paths === "object" ? (j.paths as Record<string, Record<string, unknown>>) : null))
    .catch(() => null);
  return spec;
}

/** serverHas tells whether the server documents method on path (a path under /api/v1, e.g. "/me/export"). */
export async function serverHas(path: string, method: string): Promise<boolean> {
  const p = await paths();
  if (!p) return true;
  return !!p[path]?.[method.toLowerCase()];
}

/** forget drops the cached description (tests). */
export function forgetCapabilities() {
  spec = null;
}
