// @vitest-environment jsdom
/** The GitHub connect form against a stubbed API: what it sends, and a stored token never shown. */
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../../lib/api";
import { renderAt, stubApi } from "../../test/harness";
import { GitHubForm } from "./GitHubForm";
import type { Integration } from "./types";

const NOT_CONNECTED: Integration = {
  kind: "github", label: "GitHub", connected: false, config: {}, has_token: false, state: "not_connected",
  message: null, summary: null, last_synced_at: null, last_attempt_at: null, next_sync_at: null,
};
const CONNECTED: Integration = {
  ...NOT_CONNECTED, connected: true, config: { repository: "acme/shop", branch: null }, has_token: true, state: "ok",
  summary: "3 new commits on main", last_synced_at: "2026-12-01T12:00:00Z",
};

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

function render(integration: Integration, onSaved = vi.fn()) {
  renderAt("/sites/pm_test/settings/integrations",
    <GitHubForm siteId="pm_test" integration={integration} onSaved={onSaved} />, "/sites/:siteId/settings/:section");
  return onSaved;
}

describe("GitHub form", () => {
  it("connects a repository with a token, then clears the token field", async () => {
    const sent = stubApi(() => [200, { ...CONNECTED, state: "pending" }]);
    const onSaved = render(NOT_CONNECTED);
    fireEvent.change(screen.getByLabelText("Repository"), { target: { value: "acme/shop" } });
    const token = screen.getByLabelText(/^Token/) as HTMLInputElement;
    expect(token.type).toBe("password");
    fireEvent.change(token, { target: { value: "github_pat_secret" } });
    fireEvent.click(screen.getByRole("button", { name: "Connect" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: "PUT", url: "/api/v1/sites/pm_test/integrations/github",
      body: { repository: "acme/shop", branch: null, token: "github_pat_secret" } });
    expect(token.value).toBe("");
  });

  it("keeps a stored token when the field is left empty, and says one is stored", async () => {
    const sent = stubApi(() => [200, CONNECTED]);
    const onSaved = render(CONNECTED);
    expect((screen.getByLabelText("Repository") as HTMLInputElement).value).toBe("acme/shop");
    expect(screen.getByPlaceholderText("a token is stored — leave empty to keep it")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Branch (optional)"), { target: { value: "release" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(sent[0].body).toEqual({ repository: "acme/shop", branch: "release" });
  });

  it("shows the API's message for a bad repository", async () => {
    stubApi(() => [400, { error: "repository: must be owner/name (e.g. octocat/Hello-World), not 'acme'" }]);
    render(NOT_CONNECTED);
    fireEvent.change(screen.getByLabelText("Repository"), { target: { value: "acme" } });
    fireEvent.click(screen.getByRole("button", { name: "Connect" }));
    expect((await screen.findByRole("alert")).textContent).toContain("repository: must be owner/name");
  });
});
