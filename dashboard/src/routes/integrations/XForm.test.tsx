// @vitest-environment jsdom
/** The X connect form against a stubbed API: the default query shown, the token write-only, a post added by URL. */
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OWNED_SITE, renderAt, stubApi } from "../../test/harness";
import type { Integration } from "./types";
import { defaultQuery, XForm } from "./XForm";

const TOKEN = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA-do-not-show-me";

function integration(changes: Partial<Integration> = {}): Integration {
  return {
    kind: "x", label: "X", connected: false, config: {}, has_token: false, state: "not_connected", message: null,
    summary: null, last_synced_at: null, last_attempt_at: null, next_sync_at: null, ...changes,
  };
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("the X form", () => {
  it("builds the default query as the server does", () => {
    expect(defaultQuery("example.com", "")).toBe('("example.com" OR url:"example.com") -is:retweet');
    expect(defaultQuery("example.com", "acme")).toBe('("example.com" OR url:"example.com" OR @acme) -is:retweet');
  });

  it("shows the default query, sends the token once and never shows it back", async () => {
    const saved = integration({ connected: true, has_token: true, state: "pending", config: { query: null, handle: "acme" } });
    const sent = stubApi(({ method }) => (method === "PUT" ? [200, saved] : [200, OWNED_SITE]));
    const onSaved = vi.fn();
    renderAt("/sites/pm_test", <XForm siteId="pm_test" integration={integration()} onSaved={onSaved} />);
    fireEvent.change(screen.getByLabelText("Handle (optional)"), { target: { value: "@acme" } });
    await screen.findByText('("example.com" OR url:"example.com" OR @acme) -is:retweet');
    fireEvent.change(screen.getByLabelText("Bearer token"), { target: { value: TOKEN } });
    fireEvent.click(screen.getByRole("button", { name: "Connect X" }));

    await waitFor(() => expect(onSaved).toHaveBeenCalledWith(saved));
    const put = sent.find((request) => request.method === "PUT")!;
    expect(put.url).toBe("/api/v1/sites/pm_test/integrations/x");
    expect(put.body).toEqual({ query: "", handle: "@acme", token: TOKEN });
    expect((screen.getByLabelText("Bearer token") as HTMLInputElement).value).toBe("");
    expect(document.body.innerHTML).not.toContain(TOKEN);
  });

  it("leaves the token out when it is not retyped, and adds a post by URL", async () => {
    const added = { id: 3, kind: "x", time: "2026-12-05T09:01:44Z", text: "Post by @ada on X", url: "https://x.com/ada/status/1",
                    external_id: "1", author: "@ada", details: {}, created_at: "", updated_at: "" };
    const sent = stubApi(({ method, url }) => (
      method === "PUT" ? [200, integration({ connected: true, has_token: true })]
        : url.endsWith("/posts") ? [201, added] : [200, OWNED_SITE]));
    renderAt("/sites/pm_test", <XForm siteId="pm_test" integration={integration({ connected: true, has_token: true })}
      onSaved={() => {}} />);
    expect(screen.getByLabelText("Bearer token").getAttribute("placeholder")).toBe("stored (leave empty to keep it)");
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(sent.some((request) => request.method === "PUT")).toBe(true));
    expect(sent.find((request) => request.method === "PUT")!.body).toEqual({ query: "", handle: "" });

    fireEvent.change(screen.getByLabelText("Post URL"), { target: { value: "https://x.com/ada/status/1" } });
    fireEvent.click(screen.getByRole("button", { name: "Add post" }));
    expect((await screen.findByRole("status")).textContent).toContain("Added @ada's post of 5 Dec 2026");
    expect(sent.find((request) => request.url.endsWith("/posts"))!.body).toEqual({ url: "https://x.com/ada/status/1" });
  });
});
