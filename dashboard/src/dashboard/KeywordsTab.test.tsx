// @vitest-environment jsdom
/** The Keywords tab against a stubbed fetch answering in the real API's shapes: Search Console's queries
 * when it is connected, the way to connect it and the utm_term keywords when it is not. */
import { cleanup, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { StatsQuery } from "../lib/api";
import { renderAt, type Sent, stubApi } from "../test/harness";
import { KeywordsTab } from "./KeywordsTab";

function integrations(connected: boolean) {
  return {
    integrations: [{
      kind: "search_console", label: "Search Console", connected, config: {}, has_token: connected,
      state: connected ? "ok" : "not_connected", message: null, summary: null, last_synced_at: null,
      last_attempt_at: null, next_sync_at: null,
    }],
  };
}

const SEARCH_ROWS = [
  { dimensions: ["postmetric"], metrics: [55, 200, 27.5, 1.5], comparison: { metrics: [10, 50, 20, 1.5], change: [450, 300, 7.5, 0] } },
  { dimensions: ["web analytics"], metrics: [2, 500, 0.4, 17.6], comparison: { metrics: [4, 200, 2, 18], change: [-50, 150, -1.6, -0.4] } },
];

function api(connected: boolean, searchRows = SEARCH_ROWS) {
  return ({ url, body }: Sent): [number, unknown] => {
    if (url === "/api/v1/sites/pm_test/integrations") return [200, integrations(connected)];
    expect(url).toBe("/api/v1/query");
    const query = body as StatsQuery;
    if (query.dimensions?.[0] === "search:query") {
      return [200, { results: searchRows, meta: { currency: "USD", total_rows: searchRows.length }, query }];
    }
    expect(query.dimensions).toEqual(["visit:utm_term"]);
    const rows = [{ dimensions: ["analytics tool"], metrics: query.metrics.map((m) => (m === "visitors" ? 12 : 0)) }];
    return [200, { results: rows, meta: { currency: "USD", total_rows: 1 }, query }];
  };
}

const queries = (sent: Sent[]) => sent.filter((r) => r.url === "/api/v1/query").map((r) => r.body as StatsQuery);
const cells = (row: HTMLElement) => within(row).getAllByRole("cell").map((cell) => cell.textContent);

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("the Keywords tab", () => {
  it("shows Search Console's queries with clicks, impressions, CTR, position and their change", async () => {
    const sent = stubApi(api(true));
    renderAt("/sites/pm_test?period=7d&compare=previous_period", <KeywordsTab />);
    const row = (await screen.findByText("postmetric")).closest("tr")!;
    expect(cells(row)).toEqual(["postmetric", "55+450%", "200+300%", "27.5%+7.5 pp", "1.5"]);
    expect(cells(screen.getByText("web analytics").closest("tr")!)).toEqual(
      ["web analytics", "2−50%", "500+150%", "0.4%−1.6 pp", "17.6−0.4"]);
    expect(screen.getAllByRole("columnheader").map((th) => th.textContent)).toEqual(
      ["Query", "Clicks ↓", "Impressions", "CTR", "Position"]);
    expect(queries(sent)[0]).toMatchObject({
      site_id: "pm_test", date_range: "7d", metrics: ["search:clicks", "search:impressions", "search:ctr", "search:position"],
      dimensions: ["search:query"], filters: [], include: { comparison: "previous_period", total_rows: true },
      order_by: [["search:clicks", "desc"]],
    });
  });

  it("a lower position is better: its fall is green, a fall in clicks red", async () => {
    stubApi(api(true));
    renderAt("/sites/pm_test?compare=previous_period", <KeywordsTab />);
    const row = (await screen.findByText("web analytics")).closest("tr")!;
    expect(within(row).getByText("−0.4").className).toContain("text-green-600");
    expect(within(row).getByText("−50%").className).toContain("text-red-600");
  });

  it("takes the page filter and leaves the visit filters out, saying so", async () => {
    const sent = stubApi(api(true));
    renderAt("/sites/pm_test?f=is,event:page,/pricing&f=is,visit:country,DE", <KeywordsTab />);
    await screen.findByText("postmetric");
    expect(queries(sent)[0].filters).toEqual([["is", "event:page", ["/pricing"]]]);
    expect(screen.getByText(/Filters other than the page do not apply to searches/)).toBeTruthy();
  });

  it("sorts by a column when its header is clicked", async () => {
    const sent = stubApi(api(true));
    renderAt("/sites/pm_test", <KeywordsTab />);
    await screen.findByText("postmetric");
    fireEvent.click(screen.getByRole("button", { name: /Impressions/ }));
    await vi.waitFor(() => expect(queries(sent).at(-1)!.order_by).toEqual([["search:impressions", "desc"]]));
  });

  it("says when Search Console has nothing for the range", async () => {
    stubApi(api(true, []));
    renderAt("/sites/pm_test?period=day", <KeywordsTab />);
    expect(await screen.findByText(/No Search Console data for this range/)).toBeTruthy();
  });

  it("asks nothing of Search Console in the realtime view, which has no whole day", async () => {
    const sent = stubApi(api(true));
    renderAt("/sites/pm_test?period=realtime", <KeywordsTab />);
    expect(await screen.findByText(/Search Console reports whole days/)).toBeTruthy();
    expect(queries(sent)).toEqual([]);
  });

  it("without Search Console, explains how to connect it and shows the utm_term keywords", async () => {
    const sent = stubApi(api(false));
    renderAt("/sites/pm_test?period=30d", <KeywordsTab />);
    const link = await screen.findByRole("link", { name: "Settings → Integrations" });
    expect(link.getAttribute("href")).toBe("/sites/pm_test/settings/integrations");
    expect(await screen.findByText("analytics tool")).toBeTruthy();
    expect(queries(sent).map((q) => q.dimensions)).toEqual([["visit:utm_term"]]);
  });

  it("in the shared view, which cannot see the integrations, shows Search Console's rows when there are any", async () => {
    const sent = stubApi(api(true));
    renderAt("/share/abc", <KeywordsTab />, "/share/:token", { readOnly: true });
    expect(await screen.findByText("postmetric")).toBeTruthy();
    expect(sent.map((request) => request.url)).toEqual(["/api/v1/query"]);
  });

  it("and the utm_term keywords when there are none", async () => {
    const sent = stubApi(api(true, []));
    renderAt("/share/abc", <KeywordsTab />, "/share/:token", { readOnly: true });
    expect(await screen.findByText("analytics tool")).toBeTruthy();
    expect(screen.queryByText(/Connect Google Search Console/)).toBeNull();
    expect(queries(sent).map((q) => q.dimensions)).toEqual([["search:query"], ["visit:utm_term"]]);
  });
});
