import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, setCsrfToken, setShareToken } from "./api";

function stubFetch(status: number, body: unknown, headers: Record<string, string> = {}) {
  const fetch = vi.fn(async (_url: string, _init: RequestInit) =>
    new Response(body === null ? null : JSON.stringify(body), { status, headers }));
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
  setShareToken(null);
});

describe("api", () => {
  it("sends the session cookie always and the CSRF token on every change", async () => {
    setCsrfToken("tok-123");
    const fetch = stubFetch(200, { ok: true });
    await api("/api/v1/sites");
    await api("/api/v1/sites", { body: { domain: "a.example" } });
    await api("/api/v1/sites/pm_a", { method: "PUT", body: { name: "A" } });
    await api("/api/v1/sites/pm_a/keys/3", { method: "DELETE" });
    const [get, post, put, del] = fetch.mock.calls.map(([, init]) => init);
    expect(fetch.mock.calls.every(([, init]) => init.credentials === "same-origin")).toBe(true);
    expect((get.headers as Record<string, string>)["X-CSRF-Token"]).toBeUndefined();
    for (const init of [post, put, del]) expect((init.headers as Record<string, string>)["X-CSRF-Token"]).toBe("tok-123");
    expect(post.method).toBe("POST");
    expect(post.body).toBe('{"domain":"a.example"}');
  });

  it("a shared dashboard sends its token", async () => {
    setShareToken("share-1");
    const fetch = stubFetch(200, { results: [] });
    await api("/api/v1/query", { body: {} });
    expect((fetch.mock.calls[0][1].headers as Record<string, string>)["X-Postmetric-Share"]).toBe("share-1");
  });

  it("turns an error answer into ApiError with the server's message", async () => {
    stubFetch(400, { error: "date_range: start must be before end" });
    const error = await api("/api/v1/query", { body: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, message: "date_range: start must be before end" });
  });

  it("says when to try again after a 429", async () => {
    stubFetch(429, { error: "too many login attempts" }, { "Retry-After": "30" });
    await expect(api("/api/v1/auth/login", { body: {} })).rejects.toThrow("too many login attempts (try again in 30 s)");
  });

  it("names the status when the answer is not JSON", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("<html>Bad gateway</html>", { status: 502 })));
    await expect(api("/api/v1/sites")).rejects.toThrow("502 error from /api/v1/sites");
  });

  it("204 answers are null", async () => {
    stubFetch(204, null);
    await expect(api("/api/v1/auth/logout", { method: "POST" })).resolves.toBeNull();
  });
});
