/** Stats queries built from the URL state: every panel, the chart and the headline go through here. */
import type { Dimension, Filter, Metric, StatsQuery } from "../lib/api";
import { metricsOfKind } from "../lib/definitions";
import { type DashboardState, defaultInterval } from "./url";

export const HEADLINE_METRICS = [
  "visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration",
] as const;
/** The revenue cards' own query: the money of the range (net, and what it is made of). */
export const REVENUE_HEADLINE_METRICS = [
  "revenue", "revenue_new", "revenue_renewal", "refunds", "revenue_per_visitor",
] as const;
/** Metrics the server may refuse while others answer (400 until the stats engine has revenue,
 * or for a breakdown it cannot attribute money to): a query asking them alongside traffic
 * is retried without them (`withoutRevenue`), so the traffic still shows. */
export const REVENUE_METRICS: ReadonlySet<string> = new Set(metricsOfKind("revenue"));

/** The query's range; a custom period carries both dates (parseSearch and the date picker set
 * them together). */
export function dateRange(state: DashboardState): StatsQuery["date_range"] {
  return state.period === "custom" ? [state.from ?? "", state.to ?? ""] : state.period;
}

interface Part {
  metrics: Metric[];
  /** Filters of the part itself (the Outbound tab's `event:name is outbound`), before the URL's. */
  scope?: Filter[];
  dimensions?: Dimension[];
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
    attribution: state.attribution,
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
  return buildQuery(siteId, state, { metrics: [...HEADLINE_METRICS], comparison: true });
}

/** A goal among the filters makes the conversion rate that goal's (SPEC §5): a query of its own. */
export function goalInContext(state: DashboardState): boolean {
  return state.filters.some(([, dimension]) => dimension === "event:goal");
}

/** The money cards' metrics; without a goal in context the conversion rate (% of visitors who
 * paid) rides along, so the visitors of the range are counted once for both. */
export function revenueHeadlineMetrics(state: DashboardState): Metric[] {
  return goalInContext(state) ? [...REVENUE_HEADLINE_METRICS] : [...REVENUE_HEADLINE_METRICS, "conversion_rate"];
}

/** Its own query, so the traffic cards never wait for (or fail with) the money. */
export function revenueHeadlineQuery(siteId: string, state: DashboardState): StatsQuery {
  return buildQuery(siteId, state, { metrics: revenueHeadlineMetrics(state), comparison: true });
}

/** With a goal in context: % of visitors who converted on that goal (SPEC §5). */
export function conversionQuery(siteId: string, state: DashboardState): StatsQuery {
  return buildQuery(siteId, state, { metrics: ["conversion_rate"], comparison: true });
}

export function chartQuery(siteId: string, state: DashboardState): StatsQuery {
  const interval = state.interval ?? defaultInterval(state);
  return buildQuery(siteId, state, {
    metrics: ["visitors", "pageviews", "revenue"], dimensions: [`time:${interval}`], timeLabels: true, comparison: true,
  });
}

/**
 * The same query without its revenue metrics (an order by one of them falls back to the first
 * metric left); null when it has none to drop, or nothing but them.
 */
export function withoutRevenue(query: StatsQuery): StatsQuery | null {
  const metrics = query.metrics.filter((metric) => !REVENUE_METRICS.has(metric));
  if (metrics.length === query.metrics.length || !metrics.length) return null;
  const narrowed: StatsQuery = { ...query, metrics };
  if (query.order_by) {
    const order = query.order_by.filter(([metric]) => !REVENUE_METRICS.has(metric));
    narrowed.order_by = order.length ? order : [[metrics[0], "desc"]];
  }
  return narrowed;
}

/** A panel tab's rows: its dimension, its metrics (the first orders them unless `sort` says),
 * its own filters. */
export interface PanelPart { dimension: Dimension; metrics: Metric[]; filters?: Filter[] }
export type Sort = [metric: Metric, direction: "asc" | "desc"];

export function panelQuery(siteId: string, state: DashboardState, { dimension, metrics, filters }: PanelPart,
                           limit = 10, sort: Sort = [metrics[0], "desc"]): StatsQuery {
  return buildQuery(siteId, state, {
    metrics, dimensions: [dimension], scope: filters, orderBy: [sort], limit, totalRows: true,
  });
}

/** The Keywords tab: Search Console's searches that showed the site, with their clicks, impressions, CTR
 * and average position. */
export const KEYWORD_METRICS: Metric[] = ["search:clicks", "search:impressions", "search:ctr", "search:position"];

/** The URL's filters Search Console data can take: the page filter (it reads the result's path). Every
 * other filter describes visits, which Search Console knows nothing of. */
export function searchFilters(state: DashboardState): { applied: Filter[]; ignored: Filter[] } {
  const applied = state.filters.filter(([, dimension]) => dimension === "event:page");
  return { applied, ignored: state.filters.filter((filter) => !applied.includes(filter)) };
}

export function keywordsQuery(siteId: string, state: DashboardState, limit = 10,
                              sort: Sort = [KEYWORD_METRICS[0], "desc"]): StatsQuery {
  const query = buildQuery(siteId, state, {
    metrics: KEYWORD_METRICS, dimensions: ["search:query"], orderBy: [sort], limit, totalRows: true, comparison: true,
  });
  return { ...query, filters: searchFilters(state).applied };
}
