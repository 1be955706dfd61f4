// @vitest-environment jsdom
/** The funnel builder against a stubbed funnels API. */
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Funnel, Site } from "../lib/api";
import { OWNED_SITE, renderAt, SITE, stubApi } from "../test/harness";
import { FunnelSettings } from "./FunnelSettings";

const OWNED: Site = OWNED_SITE;
const SIGNUP: Funnel = {
  id: 7, site_id: "pm_test", name: "Sign-up", created_at: "2026-03-01T00:00:00Z", updated_at: "2026-03-01T00:00:00Z",
  steps: [{ type: "page", match: "/pricing", label: "Pricing" }, { type: "goal", match: "signup", label: null }],
};

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function serve(funnels: Funnel[], refuse: string | null = null) {
  return stubApi(({ method }) => {
    if (method === "GET") return [200, { funnels }];
    if (refuse) return [400, { error: refuse }];
    return method === "DELETE" ? [204, null] : [method === "POST" ? 201 : 200, SIGNUP];
  });
}

const open = () => renderAt("/sites/pm_test/settings/funnels", <FunnelSettings site={OWNED} />, "/sites/:siteId/settings/:section");
const type = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe("Settings → Funnels", () => {
  it("lists each funnel by its steps", async () => {
    serve([SIGNUP]);
    open();
    const list = await screen.findByRole("list", { name: "Funnels" });
    expect(within(list).getByText("Pricing → Goal signup")).toBeTruthy();
  });

  it("builds a funnel: adds, moves and removes steps, then posts it", async () => {
    const sent = serve([]);
    open();
    await screen.findByText("No funnels yet.");
    type("Funnel name", "Docs to trial");
    type("Step 1 match", "/docs/*");
    type("Step 2 match", "trial");
    fireEvent.change(screen.getByLabelText("Step 2 type"), { target: { value: "goal" } });
    fireEvent.click(screen.getByRole("button", { name: "Add step" }));
    type("Step 3 match", "/pricing");
    type("Step 3 label", "Pricing");
    fireEvent.click(screen.getByRole("button", { name: "Move step 3 up" }));
    fireEvent.click(screen.getByRole("button", { name: "Add step" }));
    fireEvent.click(screen.getByRole("button", { name: "Remove step 4" }));
    fireEvent.click(screen.getByRole("button", { name: "Create funnel" }));
    await waitFor(() => expect(sent.some((r) => r.method === "POST")).toBe(true));
    expect(sent.find((r) => r.method === "POST")).toMatchObject({ url: "/api/v1/sites/pm_test/funnels", body: {
      name: "Docs to trial", steps: [
        { type: "page", match: "/docs/*", label: null }, { type: "page", match: "/pricing", label: "Pricing" },
        { type: "goal", match: "trial", label: null },
      ],
    } });
  });

  it("offers no more than 8 steps and no fewer than 2", async () => {
    serve([]);
    open();
    await screen.findByText("No funnels yet.");
    expect((screen.getByRole("button", { name: "Remove step 1" }) as HTMLButtonElement).disabled).toBe(true);
    for (let i = 0; i < 6; i++) fireEvent.click(screen.getByRole("button", { name: "Add step" }));
    expect(screen.getAllByTestId("builder-step")).toHaveLength(8);
    expect((screen.getByRole("button", { name: /Add step/ }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("says what is missing before sending, and shows the API's refusal by the form", async () => {
    const sent = serve([], "steps[2].match: no goal named signupp");
    open();
    await screen.findByText("No funnels yet.");
    fireEvent.click(screen.getByRole("button", { name: "Create funnel" }));
    expect((await screen.findByRole("alert")).textContent).toContain("name: give the funnel a name");
    expect(sent.filter((r) => r.method === "POST")).toEqual([]);
    type("Funnel name", "x");
    type("Step 1 match", "/pricing");
    fireEvent.change(screen.getByLabelText("Step 2 type"), { target: { value: "goal" } });
    type("Step 2 match", "signupp");
    fireEvent.click(screen.getByRole("button", { name: "Create funnel" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("steps[2].match: no goal named signupp"));
  });

  it("edits a funnel through PUT and deletes one", async () => {
    const sent = serve([SIGNUP]);
    open();
    fireEvent.click(await screen.findByRole("button", { name: "Edit" }));
    expect((screen.getByLabelText("Step 1 label") as HTMLInputElement).value).toBe("Pricing");
    type("Funnel name", "Sign-up v2");
    fireEvent.click(screen.getByRole("button", { name: "Save funnel" }));
    await waitFor(() => expect(sent.some((r) => r.method === "PUT")).toBe(true));
    expect(sent.find((r) => r.method === "PUT")).toMatchObject({ url: "/api/v1/sites/pm_test/funnels/7", body: { name: "Sign-up v2" } });
    fireEvent.click(screen.getByRole("button", { name: "Delete Sign-up" }));
    await waitFor(() => expect(sent.some((r) => r.method === "DELETE" && r.url === "/api/v1/sites/pm_test/funnels/7")).toBe(true));
  });
});
