// @vitest-environment jsdom
/** Search Console's connect form against a stubbed API: without an OAuth client it says how to configure
 * one and offers the key; a key is sent as the connect body; a connection lists the properties to choose. */
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderAt, stubApi } from "../../test/harness";
import { SearchConsoleForm } from "./SearchConsoleForm";
import type { Integration } from "./types";

const BASE = "/api/v1/sites/pm_test/integrations/search_console";
const NOT_CONNECTED: Integration = {
  kind: "search_console", label: "Search Console", connected: false, config: {}, has_token: false,
  state: "not_connected", message: null, summary: null, last_synced_at: null, last_attempt_at: null, next_sync_at: null,
};
const CONNECTED: Integration = {
  ...NOT_CONNECTED, connected: true, has_token: true, state: "pending", message: "choose a Search Console property",
  config: { auth: "oauth", property: null },
};

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("Search Console form", () => {
  it("explains how to configure Google sign-in and sends a service account key", async () => {
    const saved = vi.fn();
    const sent = stubApi(({ url }) => url === `${BASE}/oauth`
      ? [200, { configured: false, redirect_uri: "https://analytics.example.com/integrations/google/callback" }]
      : [200, { ...NOT_CONNECTED, connected: true, has_token: true }]);
    renderAt("/", <SearchConsoleForm siteId="pm_test" integration={NOT_CONNECTED} onSaved={saved} />, "/");
    const note = await screen.findByTestId("google-not-configured");
    expect(note.textContent).toContain("https://analytics.example.com/integrations/google/callback");
    expect(note.textContent).toContain("POSTMETRIC_GOOGLE_CLIENT_ID");
    expect(screen.queryByTestId("connect-google")).toBeNull();
    fireEvent.change(screen.getByTestId("search-console-key"), { target: { value: '{"type": "service_account"}' } });
    fireEvent.click(screen.getByRole("button", { name: "Save key" }));
    await waitFor(() => expect(saved).toHaveBeenCalledOnce());
    const put = sent.find((request) => request.method === "PUT");
    expect(put).toMatchObject({ url: BASE, body: { service_account_key: '{"type": "service_account"}' } });
  });

  it("links to Google when configured and lets a connection choose its property", async () => {
    const saved = vi.fn();
    const sent = stubApi(({ url, method }) => {
      if (url === `${BASE}/oauth`) return [200, { configured: true, redirect_uri: "https://a.example/cb" }];
      if (url === `${BASE}/properties`) {
        return [200, { properties: [{ site_url: "sc-domain:example.com", permission_level: "siteOwner" },
          { site_url: "https://www.example.com/", permission_level: "siteFullUser" }] }];
      }
      if (method === "PUT") return [200, { ...CONNECTED, config: { auth: "oauth", property: "sc-domain:example.com" } }];
      return [404, { error: "unexpected" }];
    });
    renderAt("/", <SearchConsoleForm siteId="pm_test" integration={CONNECTED} onSaved={saved} />, "/");
    const link = await screen.findByTestId("connect-google");
    expect(link.getAttribute("href")).toBe(`${BASE}/authorize`);
    expect(link.textContent).toBe("Reconnect with Google");
    const chooser = await screen.findByTestId("search-console-property");
    expect(Array.from((chooser as HTMLSelectElement).options).map((o) => o.textContent)).toEqual([
      "Choose a property…", "sc-domain:example.com (owner)", "https://www.example.com/ (full user)"]);
    fireEvent.change(chooser, { target: { value: "sc-domain:example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Use this property" }));
    await waitFor(() => expect(saved).toHaveBeenCalledOnce());
    expect(sent.find((request) => request.method === "PUT")?.body).toEqual({ property: "sc-domain:example.com" });
    expect(screen.queryByTestId("search-console-current-property")).toBeNull();
  });

  it("names the property a connection syncs", async () => {
    stubApi(({ url }) => url === `${BASE}/oauth` ? [200, { configured: false, redirect_uri: "https://a.example/cb" }]
      : [200, { properties: [] }]);
    const syncing = { ...CONNECTED, config: { auth: "oauth", property: "sc-domain:example.com" } };
    renderAt("/", <SearchConsoleForm siteId="pm_test" integration={syncing} onSaved={vi.fn()} />, "/");
    expect((await screen.findByTestId("search-console-current-property")).textContent)
      .toBe("Syncing the property sc-domain:example.com.");
  });
});
