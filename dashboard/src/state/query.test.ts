import { describe, expect, it } from "vitest";
import { chartQuery, conversionQuery, headlineQuery, panelQuery, revenueHeadlineQuery, withoutRevenue } from "./query";
import { PAGE_TABS } from "../dashboard/panels";
import { parseSearch } from "./url";

describe("queries built from the URL", () => {
  it("the headline asks the headline metrics, with the comparison when it is on", () => {
    const state = parseSearch("?period=7d&compare=previous_period&f=is,visit:source,Google");
    expect(headlineQuery("pm_abc", state)).toEqual({
      site_id: "pm_abc",
      date_range: "7d",
      metrics: ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"],
      filters: [["is", "visit:source", ["Google"]]],
      attribution: "first_touch",
      include: { comparison: "previous_period" },
    });
  });

  it("the revenue cards are a query of their own with the URL's attribution, carrying the conversion rate", () => {
    const state = parseSearch("?period=7d&compare=previous_period&attribution=last_touch");
    expect(revenueHeadlineQuery("pm_abc", state)).toEqual({
      site_id: "pm_abc",
      date_range: "7d",
      metrics: ["revenue", "revenue_new", "revenue_renewal", "refunds", "revenue_per_visitor", "conversion_rate"],
      filters: [],
      attribution: "last_touch",
      include: { comparison: "previous_period" },
    });
  });

  it("with a goal filter the conversion rate is the goal's, asked on its own", () => {
    const state = parseSearch("?period=7d&attribution=last_touch&f=is,event:goal,signup");
    expect(revenueHeadlineQuery("pm_abc", state).metrics).not.toContain("conversion_rate");
    expect(conversionQuery("pm_abc", state)).toMatchObject({
      metrics: ["conversion_rate"], attribution: "last_touch", filters: [["is", "event:goal", ["signup"]]],
    });
  });

  it("every query carries the attribution, first touch unless the URL says otherwise", () => {
    expect(chartQuery("s", parseSearch("")).attribution).toBe("first_touch");
    expect(panelQuery("s", parseSearch("?attribution=last_touch"), { dimension: "visit:source", metrics: ["visitors"] })
      .attribution).toBe("last_touch");
  });

  it("without revenue: the same query minus its money metrics, ordered by what is left", () => {
    const query = panelQuery("s", parseSearch(""), { dimension: "visit:source", metrics: ["visitors", "revenue"] }, 10,
                             ["revenue", "desc"]);
    expect(withoutRevenue(query)).toEqual({ ...query, metrics: ["visitors"], order_by: [["visitors", "desc"]] });
    expect(withoutRevenue(panelQuery("s", parseSearch(""), { dimension: "visit:os", metrics: ["visitors"] }))).toBeNull();
    expect(withoutRevenue(revenueHeadlineQuery("s", parseSearch("")))).toBeNull();
  });

  it("a custom range is sent as [from, to]; no comparison unless asked", () => {
    const query = headlineQuery("pm_abc", parseSearch("?period=custom&from=2026-03-01&to=2026-03-10"));
    expect(query.date_range).toEqual(["2026-03-01", "2026-03-10"]);
    expect(query.include).toBeUndefined();
  });

  it("the chart buckets by the URL's interval, else the period's, with time labels", () => {
    expect(chartQuery("s", parseSearch("?period=day"))).toMatchObject({
      dimensions: ["time:hour"], include: { time_labels: true }, metrics: ["visitors", "pageviews", "revenue"],
    });
    expect(chartQuery("s", parseSearch("?period=30d&interval=week")).dimensions).toEqual(["time:week"]);
  });

  it("every panel carries every filter of the URL", () => {
    const state = parseSearch("?f=is,visit:source,Google&f=contains,event:page,/blog");
    expect(panelQuery("s", state, { dimension: "visit:country", metrics: ["visitors"] })).toEqual({
      site_id: "s",
      date_range: "30d",
      metrics: ["visitors"],
      dimensions: ["visit:country"],
      filters: [["is", "visit:source", ["Google"]], ["contains", "event:page", ["/blog"]]],
      attribution: "first_touch",
      order_by: [["visitors", "desc"]],
      include: { total_rows: true },
      pagination: { limit: 10 },
    });
  });

  it("the Outbound tab asks the URLs of outbound events, its own filter first, then the URL's", () => {
    const outbound = PAGE_TABS.find((tab) => tab.id === "outbound")!;
    expect(panelQuery("s", parseSearch("?period=7d&f=is,visit:source,Google"), outbound)).toEqual({
      site_id: "s",
      date_range: "7d",
      metrics: ["visitors", "events", "revenue"],
      dimensions: ["event:props:url"],
      filters: [["is", "event:name", ["outbound"]], ["is", "visit:source", ["Google"]]],
      attribution: "first_touch",
      order_by: [["visitors", "desc"]],
      include: { total_rows: true },
      pagination: { limit: 10 },
    });
  });
});
