// @vitest-environment jsdom
/** Settings → Goals against a stubbed goals API. */
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Goal, Site } from "../lib/api";
import { OWNED_SITE, renderAt, SITE, stubApi } from "../test/harness";
import { goalBody, GoalSettings } from "./GoalSettings";
import SettingsPage from "./SettingsPage";

const OWNED: Site = OWNED_SITE;
const SIGNUP: Goal = { id: 1, kind: "event", event_name: "signup", page_path: null, display_name: "Sign-ups" };
const THANKS: Goal = { id: 2, kind: "page", event_name: null, page_path: "/thank-you*", display_name: "/thank-you*" };

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("the goal form", () => {
  it("sends an event goal by name, a page goal by path pattern, the display name only when typed", () => {
    expect(goalBody({ kind: "event", target: " signup ", displayName: "" })).toEqual({ body: { kind: "event", event_name: "signup" } });
    expect(goalBody({ kind: "page", target: "/docs/*", displayName: " Docs " }))
      .toEqual({ body: { kind: "page", page_path: "/docs/*", display_name: "Docs" } });
  });

  it("refuses an empty target or a path pattern without its leading slash", () => {
    expect(goalBody({ kind: "event", target: " ", displayName: "x" })).toEqual({ error: "event_name: the name of the custom event is needed" });
    expect(goalBody({ kind: "page", target: "docs", displayName: "" })).toEqual({ error: "page_path: a path pattern starts with /" });
  });
});

describe("Settings → Goals", () => {
  function serve(goals: Goal[], refuse: string | null = null) {
    return stubApi(({ method, body }) => {
      if (method === "GET") return [200, { goals }];
      if (refuse) return [400, { error: refuse }];
      if (method === "POST") {
        const created = { id: 3, event_name: null, page_path: null, display_name: "", ...(body as object) } as Goal;
        goals = [...goals, created];
        return [201, created];
      }
      if (method === "PUT") return [200, { ...SIGNUP, ...(body as object) }];
      return [204, null];
    });
  }

  it("lists the goals with what each counts", async () => {
    serve([SIGNUP, THANKS]);
    renderAt("/sites/pm_test/settings/goals", <GoalSettings site={OWNED} />, "/sites/:siteId/settings/:section");
    const list = await screen.findByRole("list", { name: "Goals" });
    expect(within(list).getAllByTestId("goal").map((li) => li.textContent)).toEqual([
      expect.stringContaining("Sign-upsEvent signup"), expect.stringContaining("/thank-you*Visit of /thank-you*"),
    ]);
  });

  it("adds a page goal and shows it", async () => {
    const sent = serve([]);
    renderAt("/sites/pm_test/settings/goals", <GoalSettings site={OWNED} />, "/sites/:siteId/settings/:section");
    await screen.findByText("No goals defined yet.");
    fireEvent.change(screen.getByLabelText("Goal type"), { target: { value: "page" } });
    fireEvent.change(screen.getByLabelText("Path pattern"), { target: { value: "/thank-you" } });
    fireEvent.click(screen.getByRole("button", { name: "Add goal" }));
    await screen.findByText("Visit of /thank-you");
    const post = sent.find((r) => r.method === "POST")!;
    expect(post.url).toBe("/api/v1/sites/pm_test/goals");
    expect(post.body).toEqual({ kind: "page", page_path: "/thank-you" });
  });

  it("shows the form's own problem before sending, and the API's refusal", async () => {
    const sent = serve([], "event_name: a goal named signup exists already");
    renderAt("/sites/pm_test/settings/goals", <GoalSettings site={OWNED} />, "/sites/:siteId/settings/:section");
    await screen.findByText("No goals defined yet.");
    fireEvent.click(screen.getByRole("button", { name: "Add goal" }));
    expect((await screen.findByRole("alert")).textContent).toBe("event_name: the name of the custom event is needed");
    expect(sent.filter((r) => r.method === "POST")).toEqual([]);
    fireEvent.change(screen.getByLabelText("Event name"), { target: { value: "signup" } });
    fireEvent.click(screen.getByRole("button", { name: "Add goal" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("event_name: a goal named signup exists already"));
  });

  it("renames a goal through PUT and deletes one", async () => {
    const sent = serve([SIGNUP]);
    renderAt("/sites/pm_test/settings/goals", <GoalSettings site={OWNED} />, "/sites/:siteId/settings/:section");
    fireEvent.click(await screen.findByRole("button", { name: "Edit" }));
    fireEvent.change(screen.getByLabelText("Display name"), { target: { value: "Trials" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(sent.some((r) => r.method === "PUT")).toBe(true));
    expect(sent.find((r) => r.method === "PUT")).toMatchObject({
      url: "/api/v1/sites/pm_test/goals/1", body: { kind: "event", event_name: "signup", display_name: "Trials" },
    });
    fireEvent.click(await screen.findByRole("button", { name: "Delete Sign-ups" }));
    await waitFor(() => expect(sent.some((r) => r.method === "DELETE" && r.url === "/api/v1/sites/pm_test/goals/1")).toBe(true));
  });
});

describe("Settings → Goals for a viewer", () => {
  it("lists the goals with every control disabled", async () => {
    stubApi(({ url }) => (url.endsWith("/goals") ? [200, { goals: [SIGNUP] }] : [200, { ...SITE, role: "viewer" }]));
    renderAt("/sites/pm_test/settings/goals", <SettingsPage />, "/sites/:siteId/settings/:section?");
    await screen.findByText("Sign-ups");
    expect(screen.getByText(/You are a viewer of this site/)).toBeTruthy();
    for (const name of ["Edit", "Delete Sign-ups", "Add goal"]) {
      expect((screen.getByRole("button", { name }) as HTMLButtonElement).matches(":disabled")).toBe(true);
    }
  });
});
