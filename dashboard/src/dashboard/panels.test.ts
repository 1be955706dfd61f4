import { describe, expect, it } from "vitest";
import { dimensionDefinition, metricDefinition } from "../lib/definitions";
import { HEADLINE_METRICS, KEYWORD_METRICS, REVENUE_HEADLINE_METRICS, REVENUE_METRICS } from "../state/query";
import {
  DEVICE_TABS, dimensionLabel, FUNNEL_BREAKDOWNS, GOAL_TABS, LOCATION_TABS, METRIC_LABELS, PAGE_TABS, SOURCE_TABS,
  UTM_TERM_TAB,
} from "./panels";

const TABS = [...SOURCE_TABS, UTM_TERM_TAB, ...PAGE_TABS, ...LOCATION_TABS, ...DEVICE_TABS, ...GOAL_TABS];

describe("the panels name only what the stats engine defines", () => {
  it("every metric a panel or card asks for is defined, with its label", () => {
    const asked = [...HEADLINE_METRICS, ...REVENUE_HEADLINE_METRICS, ...KEYWORD_METRICS,
                   ...TABS.flatMap((tab) => tab.metrics)];
    for (const metric of asked) {
      expect(metricDefinition(metric), metric).toBeDefined();
      expect(METRIC_LABELS[metric]).toBe(metricDefinition(metric)?.label);
    }
  });

  it("every dimension a tab or a funnel breakdown reads is defined, but custom properties", () => {
    for (const dimension of [...TABS.map((tab) => tab.dimension), ...FUNNEL_BREAKDOWNS]) {
      if (dimension.startsWith("event:props:")) continue;
      expect(dimensionDefinition(dimension), dimension).toBeDefined();
    }
    expect(dimensionLabel("visit:utm_campaign")).toBe("Campaign");
    expect(dimensionLabel("event:props:url")).toBe("Link URL");
    expect(dimensionLabel("event:props:plan")).toBe("props:plan");
  });

  it("the revenue metrics are the engine's", () => {
    expect([...REVENUE_METRICS].sort()).toEqual([
      "average_order_value", "conversion_rate", "customers", "payments", "refunds", "revenue", "revenue_new",
      "revenue_per_visitor", "revenue_renewal",
    ]);
  });
});
