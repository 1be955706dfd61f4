// @vitest-environment jsdom
/** Panels and chips against a stubbed fetch that answers in the real API shapes. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { StatsQuery } from "../lib/api";
import { FilterChips } from "./Controls";
import { MetricsTable } from "./MetricsTable";
import { PAGE_TABS, SOURCE_TABS } from "./panels";
import { SiteContext } from "./SiteContext";

const SITE = { id: "pm_test", domain: "example.com", name: null, timezone: "Europe/Berlin", currency: "USD" };
let sent: StatsQuery[] = [];

function answer(query: StatsQuery) {
  const rows = query.dimensions?.[0] === "visit:source"
    ? [{ dimensions: ["Google"], metrics: [7] }, { dimensions: [""], metrics: [3] }]
    : query.dimensions?.[0] === "event:props:url"
      ? [{ dimensions: ["https://elsewhere.example/deal"], metrics: [2, 3] }]
      : [{ dimensions: ["DE"], metrics: [5] }];
  return { results: rows, meta: { currency: "USD", total_rows: rows.length }, query };
}

beforeEach(() => {
  sent = [];
  vi.stubGlobal("fetch", vi.fn(async (url: string, init: RequestInit) => {
    expect(url).toBe("/api/v1/query");
    expect(init.credentials).toBe("same-origin");
    const query = JSON.parse(String(init.body)) as StatsQuery;
    sent.push(query);
    return new Response(JSON.stringify(answer(query)), { status: 200, headers: { "Content-Type": "application/json" } });
  }));
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderAt(url: string, element: ReactNode) {
  const router = createMemoryRouter([{ path: "/sites/:siteId", element }], { initialEntries: [url] });
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <SiteContext.Provider value={{ site: SITE, readOnly: false }}><RouterProvider router={router} /></SiteContext.Provider>
    </QueryClientProvider>,
  );
  return router;
}

describe("a panel", () => {
  it("queries its dimension with the URL's filters and range", async () => {
    renderAt("/sites/pm_test?period=7d&f=is,visit:country,DE", <MetricsTable tab={SOURCE_TABS[1]} />);
    await screen.findByText("Google");
    expect(sent[0]).toMatchObject({
      site_id: "pm_test", date_range: "7d", dimensions: ["visit:source"], filters: [["is", "visit:country", ["DE"]]],
    });
    expect(screen.getByText("Direct / None")).toBeTruthy();
  });

  it("a click on a row adds the filter to the URL and re-queries with it", async () => {
    const router = renderAt("/sites/pm_test", <MetricsTable tab={SOURCE_TABS[1]} />);
    fireEvent.click(await screen.findByText("Google"));
    await waitFor(() => expect(router.state.location.search).toBe("?f=is,visit:source,Google"));
    await waitFor(() => expect(sent.at(-1)?.filters).toEqual([["is", "visit:source", ["Google"]]]));
  });

  it("the Outbound tab's row filters by the link URL; the tab keeps its own outbound filter", async () => {
    const outbound = PAGE_TABS.find((tab) => tab.id === "outbound")!;
    const router = renderAt("/sites/pm_test", <MetricsTable tab={outbound} />);
    const url = await screen.findByText("https://elsewhere.example/deal");
    expect(screen.getAllByRole("columnheader").map((th) => th.textContent)).toEqual(["Link URL", "Visitors", "Events"]);
    fireEvent.click(url);
    await waitFor(() => expect(router.state.location.search).toBe("?f=is,event:props:url,https://elsewhere.example/deal"));
    await waitFor(() => expect(sent.at(-1)?.filters).toEqual([
      ["is", "event:name", ["outbound"]], ["is", "event:props:url", ["https://elsewhere.example/deal"]],
    ]));
  });

  it("shows an API error instead of rows", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ error: "filters[0]: unknown dimension" }), { status: 400 })));
    renderAt("/sites/pm_test", <MetricsTable tab={SOURCE_TABS[1]} />);
    expect((await screen.findByRole("alert")).textContent).toBe("filters[0]: unknown dimension");
  });
});

describe("filter chips", () => {
  it("show every filter of the URL; × removes one", async () => {
    const router = renderAt("/sites/pm_test?f=is,visit:source,Google&f=is,visit:country,DE", <FilterChips />);
    expect(screen.getByText("Google")).toBeTruthy();
    await act(async () => fireEvent.click(screen.getByLabelText("Remove filter Source")));
    expect(router.state.location.search).toBe("?f=is,visit:country,DE");
  });
});
