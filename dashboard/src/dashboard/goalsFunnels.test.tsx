// @vitest-environment jsdom
/** The Goals and Funnels panels of the site dashboard against a stubbed API. */
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { FunnelResults, StatsQuery } from "../lib/api";
import { renderAt, stubApi } from "../test/harness";
import { FunnelPanel } from "./FunnelPanel";
import { GoalsPanel } from "./GoalsPanel";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("the Goals panel", () => {
  it("asks converters, completions, conversion rate and revenue by goal; a click filters by the goal", async () => {
    const sent = stubApi(({ body }) => {
      const query = body as StatsQuery;
      return [200, { results: [{ dimensions: ["signup"], metrics: [12, 15, 4.8, 299] }], meta: { currency: "EUR", total_rows: 1 }, query }];
    });
    const router = renderAt("/sites/pm_test?period=7d", <GoalsPanel />);
    const panel = await screen.findByRole("region", { name: "Goals" });
    const row = (await within(panel).findByText("signup")).closest("tr")!;
    expect([...row.querySelectorAll("td")].map((td) => td.textContent)).toEqual(["signup", "12", "15", "4.8%", "€299.00"]);
    expect(sent[0].body).toMatchObject({ dimensions: ["event:goal"], metrics: ["visitors", "conversions", "conversion_rate", "revenue"], date_range: "7d" });
    fireEvent.click(row);
    await waitFor(() => expect(router.state.location.search).toBe("?period=7d&f=is,event:goal,signup"));
  });

  it("explains how to track goals when none was completed", async () => {
    stubApi(({ body }) => [200, { results: [], meta: { total_rows: 0 }, query: body }]);
    renderAt("/sites/pm_test", <GoalsPanel />);
    const empty = await screen.findByTestId("goals-empty");
    expect(empty.textContent).toContain('data-postmetric-goal="signup"');
    expect(empty.textContent).toContain("postmetric('signup')");
    expect(within(empty).getByRole("link", { name: "Settings → Goals" }).getAttribute("href")).toBe("/sites/pm_test/settings/goals");
  });
});

const FUNNEL = {
  id: 7, site_id: "pm_test", name: "Sign-up", created_at: "", updated_at: "",
  steps: [{ type: "page" as const, match: "/pricing", label: "Pricing" }, { type: "goal" as const, match: "signup", label: null }],
};

function results(url: string): FunnelResults {
  const step = (position: number, visitors: number, extra = {}) => ({
    ...FUNNEL.steps[position], index: position + 1, visitors, conversion_from_previous: null, conversion_from_first: null, drop_off: null,
    median_seconds_to_next: null, ...extra,
  });
  const steps = [step(0, 40, { conversion_from_first: 100, conversion_from_previous: 100, drop_off: 0, median_seconds_to_next: 95 }),
                 step(1, 10, { conversion_from_first: 25, conversion_from_previous: 25, drop_off: 30 })];
  const answer: FunnelResults = { funnel: FUNNEL, date_range: { start: "2026-03-01", end: "2026-03-10" }, steps };
  if (url.includes("breakdown=visit%3Asource")) {
    answer.breakdown = [{ value: "Google", steps: [step(0, 30), step(1, 9)] }, { value: "", steps: [step(0, 10), step(1, 1)] }];
  }
  return answer;
}

describe("the Funnels panel", () => {
  it("draws the first funnel over the dashboard's range with each step's numbers", async () => {
    const sent = stubApi(({ url }) => (url.endsWith("/funnels") ? [200, { funnels: [FUNNEL] }] : [200, results(url)]));
    renderAt("/sites/pm_test?period=custom&from=2026-03-01&to=2026-03-10", <FunnelPanel />);
    const steps = await screen.findAllByTestId("funnel-step");
    expect(steps.map((s) => s.textContent)).toEqual([
      "1.PricingPage /pricing40 visitors · 100%Median time to next step1m 35s",
      "2.Goal signup10 visitors · 25%From previous25%Drop-off30",
    ]);
    expect(sent[1].url).toBe("/api/v1/funnels/7/results?date_range=2026-03-01%2C2026-03-10");
  });

  it("splits the step visitors by a visit dimension", async () => {
    const sent = stubApi(({ url }) => (url.endsWith("/funnels") ? [200, { funnels: [FUNNEL] }] : [200, results(url)]));
    renderAt("/sites/pm_test", <FunnelPanel />);
    fireEvent.change(await screen.findByLabelText("Breakdown"), { target: { value: "visit:source" } });
    const table = await screen.findByTestId("funnel-breakdown");
    expect([...table.querySelectorAll("tbody tr")].map((tr) => tr.textContent)).toEqual(["Google309", "Direct / None101"]);
    expect(sent.at(-1)!.url).toBe("/api/v1/funnels/7/results?date_range=30d&breakdown=visit%3Asource");
  });

  it("without funnels, links to Settings → Funnels", async () => {
    stubApi(() => [200, { funnels: [] }]);
    renderAt("/sites/pm_test", <FunnelPanel />);
    const link = await screen.findByRole("link", { name: "Create one in Settings → Funnels" });
    expect(link.getAttribute("href")).toBe("/sites/pm_test/settings/funnels");
  });

  it("shows the API's error for the results", async () => {
    stubApi(({ url }) => (url.endsWith("/funnels") ? [200, { funnels: [FUNNEL] }] : [400, { error: "date_range: realtime is not a funnel range" }]));
    renderAt("/sites/pm_test?period=realtime", <FunnelPanel />);
    expect((await screen.findByRole("alert")).textContent).toBe("date_range: realtime is not a funnel range");
  });
});
