// @vitest-environment jsdom
/** Settings → Privacy against a stubbed API: the export's progress and its errors, an erasure's counts. */
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../lib/api";
import type { Site } from "../lib/api";
import { OWNED_SITE, renderAt, stubApi } from "../test/harness";
import { formatBytes, PrivacySettings } from "./PrivacySettings";

const SITE: Site = OWNED_SITE;
const PATH = "/sites/:siteId/settings/:section";

/** `fetch` answering the export with `chunks` as a stream, or with `error` ([status, message]); no erasures. */
function stubExport(chunks: Uint8Array[], error?: [number, string]) {
  const fetch = vi.fn(async (url: string) => {
    if (url.endsWith("/erasures")) return new Response(JSON.stringify({ erasures: [] }), { status: 200 });
    if (error) return new Response(JSON.stringify({ error: error[1] }), { status: error[0] });
    const body = new ReadableStream({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { "Content-Type": "application/zip" } });
  });
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  setCsrfToken(null);
});

describe("privacy settings", () => {
  it("exports the site's zip and says how much was received", async () => {
    const fetch = stubExport([new Uint8Array(1500), new Uint8Array(2000)]);
    URL.createObjectURL = vi.fn(() => "blob:zip");
    URL.revokeObjectURL = vi.fn();
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
    renderAt("/sites/pm_test/settings/privacy", <PrivacySettings site={SITE} />, PATH);
    fireEvent.click(screen.getByRole("button", { name: "Export all data" }));
    await waitFor(() => expect(screen.getByTestId("export-progress").textContent).toBe("Done: 3.4 KB saved"));
    expect(fetch.mock.calls.map(([url]) => url)).toContain("/api/v1/sites/pm_test/export");
    expect(click).toHaveBeenCalledOnce();
  });

  it("shows the server's error instead of saving anything", async () => {
    stubExport([], [403, "role: viewers cannot export data"]);
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
    renderAt("/sites/pm_test/settings/privacy", <PrivacySettings site={SITE} />, PATH);
    fireEvent.click(screen.getByRole("button", { name: "Export all data" }));
    expect((await screen.findByRole("alert")).textContent).toBe("role: viewers cannot export data");
    expect(click).not.toHaveBeenCalled();
  });

  it("erases by the chosen selector only once confirmed, and shows the counts and the audit", async () => {
    setCsrfToken("csrf-1");
    const erased = { id: 1, selector: "user_id", erased_at: "2026-12-07T10:00:00Z", visitors: 2,
      events: 41, visits: 6, identities: 2, payments_scrubbed: 3 };
    let audit: unknown[] = [];
    const sent = stubApi(({ method }) => {
      if (method === "GET") return [200, { erasures: audit }];
      audit = [{ ...erased, erased_by: "owner@example.com" }];
      return [200, erased];
    });
    renderAt("/sites/pm_test/settings/privacy", <PrivacySettings site={SITE} />, PATH);
    fireEvent.change(screen.getByLabelText("Erase by"), { target: { value: "user_id" } });
    fireEvent.change(screen.getByLabelText("User id"), { target: { value: " u-42 " } });
    const erase = screen.getByRole("button", { name: "Erase" }) as HTMLButtonElement;
    expect(erase.disabled).toBe(true);
    fireEvent.click(screen.getByLabelText("This cannot be undone"));
    fireEvent.click(erase);
    expect((await screen.findByTestId("erasure-result")).textContent).toBe(
      "Erased 2 visitor(s): 41 events, 6 visits; 3 payment(s) kept without personal data.");
    expect(sent.filter((r) => r.method === "POST")).toEqual([{ url: "/api/v1/sites/pm_test/erasures", method: "POST",
      body: { user_id: "u-42" }, headers: expect.objectContaining({ "X-CSRF-Token": "csrf-1" }) }]);
    expect((await screen.findByTestId("erasure")).textContent).toBe(
      "7 Dec 2026, 11:00: by a user id, 2 visitor(s), 41 events · owner@example.com");
  });

  it("formats sizes", () => {
    expect([formatBytes(512), formatBytes(2048), formatBytes(5 * 1024 * 1024)]).toEqual(["512 B", "2.0 KB", "5.0 MB"]);
  });
});
