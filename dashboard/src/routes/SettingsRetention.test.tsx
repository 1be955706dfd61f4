// @vitest-environment jsdom
/** Settings → Data retention against a stubbed sites API. */
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Site } from "../lib/api";
import { renderAt, SITE, stubApi } from "../test/harness";
import SettingsPage, { retentionBody } from "./SettingsPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("the retention form", () => {
  it("sends null for forever, or a whole number of days within the API's bounds", () => {
    expect(retentionBody(true, "12")).toEqual({ body: { retention_days: null } });
    expect(retentionBody(false, " 30 ")).toEqual({ body: { retention_days: 30 } });
    expect(retentionBody(false, "3650")).toEqual({ body: { retention_days: 3650 } });
  });

  it("refuses what the API would refuse, naming the field", () => {
    for (const days of ["29", "3651", "0", "-30", "90.5", "1e3", "", "forever", "9".repeat(400)]) {
      expect(retentionBody(false, days)).toEqual({ error: "retention_days: a whole number of days from 30 to 3650" });
    }
  });
});

describe("Settings → Data retention", () => {
  function serve(site: Partial<Site>, refuse: string | null = null) {
    let current = { ...SITE, role: "owner", ...site };
    return stubApi(({ method, body }) => {
      if (method === "PUT") {
        if (refuse) return [400, { error: refuse }];
        current = { ...current, ...(body as object) };
      }
      return [200, current];
    });
  }

  it("shows that visits are kept forever, and sets a number of days", async () => {
    const sent = serve({ retention_days: null });
    renderAt("/sites/pm_test/settings/retention", <SettingsPage />, "/sites/:siteId/settings/:section?");
    await screen.findByText(/visits are kept forever/);
    expect((screen.getByLabelText("Keep visits forever") as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText("Days (30 to 3650)") as HTMLInputElement).disabled).toBe(true);
    fireEvent.click(screen.getByLabelText("Delete visits older than a number of days"));
    fireEvent.change(screen.getByLabelText("Days (30 to 3650)"), { target: { value: "90" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await screen.findByText(/visits older than 90 days are deleted/);
    expect(sent.filter((r) => r.method === "PUT")).toMatchObject([{ url: "/api/v1/sites/pm_test", body: { retention_days: 90 } }]);
    expect(screen.getByText("Saved")).toBeTruthy();
  });

  it("shows the form's own problem before sending, and the API's refusal", async () => {
    const sent = serve({ retention_days: 400 }, "retention_days: must be a number of days from 30 to 3650, or null to keep forever");
    renderAt("/sites/pm_test/settings/retention", <SettingsPage />, "/sites/:siteId/settings/:section?");
    await screen.findByText(/older than 400 days/);
    fireEvent.change(screen.getByLabelText("Days (30 to 3650)"), { target: { value: "7" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect((await screen.findByRole("alert")).textContent).toBe("retention_days: a whole number of days from 30 to 3650");
    expect(sent.filter((r) => r.method === "PUT")).toEqual([]);
    fireEvent.change(screen.getByLabelText("Days (30 to 3650)"), { target: { value: "60" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe(
      "retention_days: must be a number of days from 30 to 3650, or null to keep forever"));
  });
});
