/** Stats queries built from the URL state: every panel, the chart and the headline go through here. */
import type { Filter, StatsQuery } from "../lib/api";
import { type DashboardState, defaultInterval } from "./url";

export const HEADLINE_METRICS = [
  "visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration",
] as const;
// Revenue arrives with the payments ledger: its cards slot in here when the API answers for them.
export const REVENUE_METRICS: string[] = [];

export function dateRange(state: DashboardState): StatsQuery["date_range"] {
  return state.period === "custom" && state.from && state.to ? [state.from, state.to] : state.period;
}

interface Part {
  metrics: string[];
  /** Filters of the part itself (the Outbound tab's `event:name is outbound`), before the URL's. */
  scope?: Filter[];
  dimensions?: string[];
  orderBy?: StatsQuery["order_by"];
  limit?: number;
  comparison?: boolean;
  timeLabels?: boolean;
  totalRows?: boolean;
}

export function buildQuery(siteId: string, state: DashboardState, part: Part): StatsQuery {
  const query: StatsQuery = {
    site_id: siteId,
    date_range: dateRange(state),
    metrics: part.metrics,
    filters: [...(part.scope ?? []), ...state.filters],
  };
  if (part.dimensions?.length) query.dimensions = part.dimensions;
  if (part.orderBy) query.order_by = part.orderBy;
  const include: NonNullable<StatsQuery["include"]> = {};
  if (part.comparison && state.compare && state.period !== "realtime" && state.period !== "all") {
    include.comparison = "previous_period";
  }
  if (part.timeLabels) include.time_labels = true;
  if (part.totalRows) include.total_rows = true;
  if (Object.keys(include).length) query.include = include;
  if (part.limit) query.pagination = { limit: part.limit };
  return query;
}

export function headlineQuery(siteId: string, state: DashboardState): StatsQuery {
  return buildQuery(siteId, state, { metrics: [...HEADLINE_METRICS, ...REVENUE_METRICS], comparison: true });
}

export function chartQuery(siteId: string, state: DashboardState): StatsQuery {
  const interval = state.interval ?? defaultInterval(state);
  return buildQuery(siteId, state, {
    metrics: ["visitors", "pageviews"], dimensions: [`time:${interval}`], timeLabels: true, comparison: true,
  });
}

/** A panel tab's rows: its dimension, its metrics (the first orders them), its own filters. */
export interface PanelPart { dimension: string; metrics: string[]; filters?: Filter[] }

export function panelQuery(siteId: string, state: DashboardState, { dimension, metrics, filters }: PanelPart,
                           limit = 10): StatsQuery {
  return buildQuery(siteId, state, {
    metrics, dimensions: [dimension], scope: filters, orderBy: [[metrics[0], "desc"]], limit, totalRows: true,
  });
}
