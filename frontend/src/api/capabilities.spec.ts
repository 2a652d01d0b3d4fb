import { afterEach, describe, expect, it, vi } from "vitest";
import { forgetCapabilities, serverHas } from "./capabilities";

describe("server capabilities", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    forgetCapabilities();
  });

  it("reads the served API description once", async () => {
    const fetch = vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response(JSON.stringify({ paths: { "/me/export": { get: {} } } }), { status: 200 }));
    expect(await serverHas("/me/export", "GET")).toBe(true);
    expect(await serverHas("/me/export", "post")).toBe(false);
    expect(await serverHas("/me/deletion-request", "post")).toBe(false);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it("assumes an action is there when the description cannot be read", async () => {
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("offline"));
    expect(await serverHas("/me/export", "get")).toBe(true);
  });
});
