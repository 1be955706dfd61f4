import { afterEach, describe, expect, it, vi } from "vitest";
import type { StatsQuery } from "../lib/api";
import { stubApi } from "../test/harness";
import { queryStatsWithRevenue } from "./queries";

afterEach(() => vi.unstubAllGlobals());

const QUERY: StatsQuery = {
  site_id: "s", date_range: "30d", metrics: ["visitors", "revenue"], dimensions: ["visit:source"],
  order_by: [["revenue", "desc"]],
};

describe("queryStatsWithRevenue (the CSV export)", () => {
  it("answers with the revenue when the server has it", async () => {
    stubApi(({ body }) => [200, { results: [{ dimensions: ["Google"], metrics: [2, 49.5] }], meta: {}, query: body }]);
    const { answer, metrics } = await queryStatsWithRevenue(QUERY);
    expect(metrics).toEqual(["visitors", "revenue"]);
    expect(answer.results[0].metrics).toEqual([2, 49.5]);
  });

  it("asks again without revenue after a 400, ordered by what is left", async () => {
    const sent = stubApi(({ body }) => ((body as StatsQuery).metrics.includes("revenue")
      ? [400, { error: "metrics: revenue is not available yet" }]
      : [200, { results: [{ dimensions: ["Google"], metrics: [2] }], meta: {}, query: body }]));
    const { metrics } = await queryStatsWithRevenue(QUERY);
    expect(metrics).toEqual(["visitors"]);
    expect((sent[1].body as StatsQuery).order_by).toEqual([["visitors", "desc"]]);
  });

  it("any other error is the error", async () => {
    stubApi(() => [500, { error: "the event store is down" }]);
    await expect(queryStatsWithRevenue(QUERY)).rejects.toThrow("the event store is down");
  });
});
