import { describe, expect, it } from "vitest";
import {
  formatBucket, formatChange, formatCountry, formatDateTime, formatDuration, formatMetric, formatMoney, formatNumber,
  formatPercent, todayIn,
} from "./format";

describe("formatNumber", () => {
  it.each([
    [0, "0"], [950, "950"], [1000, "1k"], [1234, "1.2k"], [15_400, "15.4k"], [999_999, "1M"],
    [123_456, "123k"], [1_500_000, "1.5M"], [2_000_000_000, "2B"], [1.5, "1.5"], [null, "–"],
  ])("%s → %s", (value, text) => expect(formatNumber(value as number | null)).toBe(text));
});

describe("formatDuration", () => {
  it.each([[0, "0s"], [45, "45s"], [83, "1m 23s"], [3600, "1h 0m"], [7500, "2h 5m"], [59.6, "1m 0s"]])(
    "%s s → %s", (seconds, text) => expect(formatDuration(seconds)).toBe(text),
  );
});

describe("percentages and changes", () => {
  it("formats percentages with at most one decimal", () => {
    expect(formatPercent(42)).toBe("42%");
    expect(formatPercent(12.5)).toBe("12.5%");
    expect(formatPercent(33.333)).toBe("33.3%");
  });
  it("signs changes; none when growing from zero", () => {
    expect(formatChange(12)).toBe("+12%");
    expect(formatChange(-3.5)).toBe("−3.5%");
    expect(formatChange(0)).toBe("0%");
    expect(formatChange(null)).toBe("");
    expect(formatChange(4, "pp")).toBe("+4 pp");
    expect(formatChange(-0.4, "")).toBe("−0.4"); // a search position's places
  });
});

describe("formatMetric", () => {
  it("reads each metric its own way", () => {
    expect(formatMetric("visitors", 1234)).toBe("1.2k");
    expect(formatMetric("bounce_rate", 40)).toBe("40%");
    expect(formatMetric("visit_duration", 83)).toBe("1m 23s");
    expect(formatMetric("views_per_visit", 2.5)).toBe("2.5");
  });
});

describe("money", () => {
  it.each([
    [1234.5, "USD", "$1,234.50"], [0.37, "EUR", "€0.37"], [1500, "JPY", "¥1,500"], [0, "GBP", "£0.00"],
    [-12, "USD", "-$12.00"], [123_456, "USD", "$123.5K"], [2_500_000, "EUR", "€2.5M"],
  ])("%s %s → %s", (value, currency, text) => expect(formatMoney(value, currency)).toBe(text));

  it("a code Intl does not know still reads; no value is a dash; no currency is USD", () => {
    expect(formatMoney(12, "US")).toBe("12.00 US");
    expect(formatMoney(null, "USD")).toBe("–");
    expect(formatMoney(5, undefined)).toBe("$5.00");
    expect(formatMoney(5, "eur")).toBe("€5.00");
  });

  it("formatMetric reads the money metrics in the answer's currency, the conversion rate in %", () => {
    for (const metric of ["revenue", "revenue_new", "revenue_renewal", "refunds", "revenue_per_visitor", "average_order_value"]) {
      expect(formatMetric(metric, 19.9, "EUR")).toBe("€19.90");
    }
    expect(formatMetric("conversion_rate", 2.35)).toBe("2.4%");
    expect(formatMetric("payments", 1234)).toBe("1.2k");
  });
});

describe("dates", () => {
  it("labels buckets as the wall-clock times the API sent", () => {
    expect(formatBucket("2026-03-10", "day")).toBe("10 Mar");
    expect(formatBucket("2026-03-10 14:00:00", "hour")).toBe("14:00");
    expect(formatBucket("2026-03-01", "month")).toBe("Mar 2026");
  });
  it("shows instants in the site's timezone", () => {
    expect(formatDateTime("2026-03-10T23:30:00Z", "Europe/Berlin")).toBe("11 Mar 2026, 00:30");
    expect(formatDateTime("2026-03-10T23:30:00Z", "America/New_York")).toBe("10 Mar 2026, 19:30");
    expect(todayIn("Pacific/Auckland", new Date("2026-03-10T12:00:00Z"))).toBe("2026-03-11");
  });
  it("names countries", () => {
    expect(formatCountry("DE")).toBe("🇩🇪 Germany");
    expect(formatCountry("")).toBe("Unknown");
  });
});
