import { beforeEach, describe, expect, it, vi } from "vitest";
import { createPinia, setActivePinia } from "pinia";
import { http } from "@/api/http";
import { useNotifications } from "./notifications";

const note = (id: string, read = false) => ({
  id, kind: "diagnosis_ready", title: "t", body: "b", data: {}, read_at: read ? "2026-01-01T00:00:00Z" : null, created_at: "2026-01-01T00:00:00Z",
});

describe("notifications store", () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.restoreAllMocks();
  });

  it("counts a live push once, even if it arrives twice", () => {
    const s = useNotifications();
    s.received(note("n1"));
    s.received(note("n1"));
    expect(s.items).toHaveLength(1);
    expect(s.unread).toBe(1);
  });

  it("marks one read on the server and lowers the count", async () => {
    const post = vi.spyOn(http, "post").mockResolvedValue(undefined);
    const s = useNotifications();
    s.received(note("n1"));
    s.received(note("n2"));
    await s.markRead("n1");
    expect(post).toHaveBeenCalledWith("/notifications/n1/read");
    expect(s.unread).toBe(1);
    await s.markRead("n1"); // already read: no second call
    expect(post).toHaveBeenCalledTimes(1);
  });

  it("loads the list and the unread count together", async () => {
    vi.spyOn(http, "get").mockImplementation(async (path: string) =>
      path.startsWith("/notifications/unread-count") ? { count: 3 } : { items: [note("a"), note("b", true)], next_cursor: null },
    );
    const s = useNotifications();
    await s.load();
    expect(s.items.map((n) => n.id)).toEqual(["a", "b"]);
    expect(s.unread).toBe(3);
  });
});
