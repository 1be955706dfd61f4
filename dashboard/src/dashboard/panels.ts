/** Every panel tab: one dimension each, drawn by the same MetricsTable. */
import type { Filter } from "../lib/api";
import { formatCountry } from "../lib/format";

/** `filters` narrow the tab's own rows (before the URL's filters); a clicked row still adds
 * only `[is, dimension, [value]]`. */
export interface PanelTab { id: string; label: string; dimension: string; metrics: string[]; filters?: Filter[] }

export const SOURCE_TABS: PanelTab[] = [
  { id: "channels", label: "Channels", dimension: "visit:channel", metrics: ["visitors"] },
  { id: "sources", label: "Sources", dimension: "visit:source", metrics: ["visitors"] },
  { id: "referrers", label: "Referrers", dimension: "visit:referrer", metrics: ["visitors"] },
  { id: "campaigns", label: "Campaigns", dimension: "visit:utm_campaign", metrics: ["visitors"] },
];
export const PAGE_TABS: PanelTab[] = [
  { id: "pages", label: "Pages", dimension: "event:page", metrics: ["visitors", "pageviews"] },
  { id: "entry", label: "Entry", dimension: "visit:entry_page", metrics: ["visitors"] },
  { id: "exit", label: "Exit", dimension: "visit:exit_page", metrics: ["visitors"] },
  { id: "hostnames", label: "Hostnames", dimension: "event:hostname", metrics: ["visitors", "pageviews"] },
  // The tracker sends a click on a link to another host as an `outbound` event with `props.url`.
  { id: "outbound", label: "Outbound", dimension: "event:props:url", metrics: ["visitors", "events"],
    filters: [["is", "event:name", ["outbound"]]] },
];
export const LOCATION_TABS: PanelTab[] = [
  { id: "countries", label: "Countries", dimension: "visit:country", metrics: ["visitors"] },
  { id: "regions", label: "Regions", dimension: "visit:region", metrics: ["visitors"] },
  { id: "cities", label: "Cities", dimension: "visit:city", metrics: ["visitors"] },
];
export const DEVICE_TABS: PanelTab[] = [
  { id: "browsers", label: "Browsers", dimension: "visit:browser", metrics: ["visitors"] },
  { id: "os", label: "OS", dimension: "visit:os", metrics: ["visitors"] },
  { id: "devices", label: "Devices", dimension: "visit:device", metrics: ["visitors"] },
];

const LABELS: Record<string, string> = {
  "visit:channel": "Channel", "visit:source": "Source", "visit:referrer": "Referrer",
  "visit:utm_campaign": "Campaign", "visit:utm_source": "UTM source", "visit:utm_medium": "UTM medium",
  "event:page": "Page", "visit:entry_page": "Entry page", "visit:exit_page": "Exit page",
  "event:hostname": "Hostname", "event:props:url": "Link URL", "visit:country": "Country", "visit:region": "Region", "visit:city": "City",
  "visit:browser": "Browser", "visit:os": "OS", "visit:device": "Device",
};

export function dimensionLabel(dimension: string): string {
  return LABELS[dimension] ?? dimension.replace(/^(visit|event):/, "");
}

export const METRIC_LABELS: Record<string, string> = {
  visitors: "Visitors", visits: "Visits", pageviews: "Pageviews", views_per_visit: "Views per visit",
  bounce_rate: "Bounce rate", visit_duration: "Visit duration", events: "Events", conversions: "Conversions",
  percentage: "%",
};

/** How a dimension value reads in a row or a chip: "" is Direct for sources, "(none)" elsewhere. */
export function valueLabel(dimension: string, value: string | null): string {
  if (value === null || value === "") {
    return dimension === "visit:source" || dimension === "visit:referrer" || dimension === "visit:channel"
      ? "Direct / None" : "(none)";
  }
  if (dimension === "visit:country") return formatCountry(value);
  return value;
}
