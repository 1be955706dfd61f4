/** Every panel tab: one dimension each, drawn by the same MetricsTable; every row shows
 * visitors and the revenue attributed to it (SPEC §9). */
import type { Dimension, Filter, Metric } from "../lib/api";
import { dimensionDefinition, METRIC_DEFINITIONS } from "../lib/definitions";
import { formatCountry } from "../lib/format";

/** `filters` narrow the tab's own rows (before the URL's filters); a clicked row still adds
 * only `[is, dimension, [value]]`. */
export interface PanelTab {
  id: string; label: string; dimension: Dimension; metrics: Metric[]; filters?: Filter[];
  /** Short column headers where the metric's name would not fit (the full name is the header's tooltip). */
  headers?: Record<string, string>;
}

export const SOURCE_TABS: PanelTab[] = [
  { id: "channels", label: "Channels", dimension: "visit:channel", metrics: ["visitors", "revenue"] },
  { id: "sources", label: "Sources", dimension: "visit:source", metrics: ["visitors", "revenue"] },
  { id: "referrers", label: "Referrers", dimension: "visit:referrer", metrics: ["visitors", "revenue"] },
  { id: "campaigns", label: "Campaigns", dimension: "visit:utm_campaign", metrics: ["visitors", "revenue"] },
];
/** The Keywords tab without Search Console: the `utm_term` of tagged links (paid search campaigns). */
export const UTM_TERM_TAB: PanelTab = {
  id: "utm_terms", label: "Keywords", dimension: "visit:utm_term", metrics: ["visitors", "revenue"],
};
export const PAGE_TABS: PanelTab[] = [
  { id: "pages", label: "Pages", dimension: "event:page", metrics: ["visitors", "pageviews", "revenue"] },
  { id: "entry", label: "Entry", dimension: "visit:entry_page", metrics: ["visitors", "revenue"] },
  { id: "exit", label: "Exit", dimension: "visit:exit_page", metrics: ["visitors", "revenue"] },
  { id: "hostnames", label: "Hostnames", dimension: "event:hostname", metrics: ["visitors", "pageviews", "revenue"] },
  // The tracker sends a click on a link to another host as an `outbound` event with `props.url`.
  { id: "outbound", label: "Outbound", dimension: "event:props:url", metrics: ["visitors", "events", "revenue"],
    filters: [["is", "event:name", ["outbound"]]] },
];
export const LOCATION_TABS: PanelTab[] = [
  { id: "countries", label: "Countries", dimension: "visit:country", metrics: ["visitors", "revenue"] },
  { id: "regions", label: "Regions", dimension: "visit:region", metrics: ["visitors", "revenue"] },
  { id: "cities", label: "Cities", dimension: "visit:city", metrics: ["visitors", "revenue"] },
];
export const DEVICE_TABS: PanelTab[] = [
  { id: "browsers", label: "Browsers", dimension: "visit:browser", metrics: ["visitors", "revenue"] },
  { id: "os", label: "OS", dimension: "visit:os", metrics: ["visitors", "revenue"] },
  { id: "devices", label: "Devices", dimension: "visit:device", metrics: ["visitors", "revenue"] },
];

/** Goals: unique converters, completions, converters as a % of the range's visitors, and the
 * converters' revenue. */
export const GOAL_TABS: PanelTab[] = [
  { id: "goals", label: "Goals", dimension: "event:goal", metrics: ["visitors", "conversions", "conversion_rate", "revenue"],
    headers: { visitors: "Uniques", conversions: "Total", conversion_rate: "CR" } },
];

/** Breakdowns a funnel's results take: the visit dimensions of the query API. */
export const FUNNEL_BREAKDOWNS = [
  "visit:source", "visit:channel", "visit:referrer", "visit:utm_source", "visit:utm_medium", "visit:utm_campaign",
  "visit:entry_page", "visit:country", "visit:region", "visit:city", "visit:device", "visit:browser", "visit:os",
] as const;

/** Custom properties the dashboard shows by name (the tracker's outbound link URL). */
const PROPERTY_LABELS: Record<string, string> = { "event:props:url": "Link URL" };

export function dimensionLabel(dimension: string): string {
  return dimensionDefinition(dimension)?.label ?? PROPERTY_LABELS[dimension] ?? dimension.replace(/^(visit|event):/, "");
}

export const METRIC_LABELS: Record<string, string> = Object.fromEntries(
  METRIC_DEFINITIONS.map((metric) => [metric.name, metric.label]),
);

/** How a dimension value reads in a row or a chip: "" is Direct for sources, "(none)" elsewhere. */
export function valueLabel(dimension: string, value: string | null): string {
  if (value === null || value === "") {
    return dimension === "visit:source" || dimension === "visit:referrer" || dimension === "visit:channel"
      ? "Direct / None" : "(none)";
  }
  if (dimension === "visit:country") return formatCountry(value);
  return value;
}
