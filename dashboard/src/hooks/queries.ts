/** One data hook per endpoint; stats hooks take a query built from the URL state. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import {
  type Annotation, api, ApiError, type AroundImpact, type Funnel, type Mentions, type PostImpact, type FunnelResults, type Goal, queryStats, type Realtime, type SessionInfo, setCsrfToken,
  type Metric, type Site, type StatsQuery, type StatsResponse, type StatsRow, type VisitorProfile,
} from "../lib/api";
import type { Integration } from "../routes/integrations/types";
import { withoutRevenue } from "../state/query";

/** Every query's retry rule (the QueryClient's default): once more after a network or server
 * error; never after a 4xx, which will not change (a site that is not the user's is a 404, a
 * viewer's key list a 403; with the library's three retries either showed "Loading…" for 7 s). */
export function retryOnceUnlessRefused(failures: number, error: Error): boolean {
  return failures < 1 && !(error instanceof ApiError && error.status < 500);
}

export function useSessionQuery() {
  return useQuery({
    queryKey: ["session"],
    queryFn: async () => {
      const session = await api<SessionInfo>("/api/v1/auth/session");
      setCsrfToken(session.csrf_token);
      return session;
    },
    retry: false,
    staleTime: 60_000,
  });
}

export function useSitesQuery() {
  return useQuery({ queryKey: ["sites"], queryFn: () => api<{ sites: Site[] }>("/api/v1/sites") });
}

export function useSiteQuery(siteId: string) {
  return useQuery({ queryKey: ["site", siteId], queryFn: () => api<Site>(`/api/v1/sites/${siteId}`) });
}

/** The site's integrations and their sync state (the same cache as Settings → Integrations). */
export function useIntegrationsQuery(siteId: string, { enabled = true }: { enabled?: boolean } = {}) {
  return useQuery({
    queryKey: ["integrations", siteId],
    queryFn: () => api<{ integrations: Integration[] }>(`/api/v1/sites/${siteId}/integrations`),
    enabled,
  });
}

/** Any stats query; the previous answer stays on screen while a new filter or range loads. */
export function useStatsQuery(query: StatsQuery, options: { enabled?: boolean; refetchInterval?: number } = {}) {
  return useQuery({
    queryKey: ["stats", query],
    queryFn: () => queryStats(query),
    placeholderData: keepPreviousData,
    ...options,
  });
}

/** The answer to a query that asks revenue beside traffic, whichever of the two queries gave it. */
export interface StatsWithRevenue {
  data: StatsResponse | undefined;
  error: Error | null;
  /** Why the rows have no revenue: the server refused the revenue metrics (and only them). */
  revenueError: Error | null;
  /** A metric of a row by name: null when the answer has no such metric. */
  metric: (row: StatsRow, name: Metric) => number | null;
  /** Its change from the comparison period, likewise. */
  change: (row: StatsRow, name: Metric) => number | null;
  /** The metrics the answer has, in its order. */
  metrics: Metric[];
}

/**
 * A query with revenue metrics beside traffic. A 400 for it (the stats engine without revenue
 * yet, or a breakdown it cannot attribute money to) asks the same query without the revenue
 * metrics, so the traffic still shows and `revenueError` says why the money is missing; an
 * error of that narrower query too is the error.
 */
export function useStatsWithRevenue(query: StatsQuery): StatsWithRevenue {
  const full = useStatsQuery(query);
  const narrowed = withoutRevenue(query);
  const refused = narrowed !== null && full.error instanceof ApiError && full.error.status === 400;
  const fallback = useStatsQuery(narrowed ?? query, { enabled: refused });
  const answered = refused ? fallback : full;
  const metrics = refused ? narrowed.metrics : query.metrics;
  return {
    data: answered.data,
    error: answered.error,
    revenueError: refused && !fallback.error ? full.error : null,
    metrics,
    metric: (row, name) => {
      const index = metrics.indexOf(name);
      return index < 0 ? null : (row.metrics[index] ?? null);
    },
    change: (row, name) => {
      const index = metrics.indexOf(name);
      return index < 0 ? null : (row.comparison?.change[index] ?? null);
    },
  };
}

/** `queryStats` with the same retry without revenue, for one-off reads (a CSV export). */
export async function queryStatsWithRevenue(query: StatsQuery): Promise<{ answer: StatsResponse; metrics: string[] }> {
  try {
    return { answer: await queryStats(query), metrics: query.metrics };
  } catch (error) {
    const narrowed = withoutRevenue(query);
    if (!narrowed || !(error instanceof ApiError && error.status === 400)) throw error;
    return { answer: await queryStats(narrowed), metrics: narrowed.metrics };
  }
}

export function useRealtimeQuery(siteId: string) {
  return useQuery({
    queryKey: ["realtime", siteId],
    queryFn: () => api<Realtime>(`/api/v1/realtime?site_id=${encodeURIComponent(siteId)}`),
    refetchInterval: 30_000,
  });
}

export const goalsKey = (siteId: string) => ["goals", siteId];
export const funnelsKey = (siteId: string) => ["funnels", siteId];

/** The site's goal definitions (the list answer is `{"goals": [...]}`; a bare list reads the same). */
export function useGoalsQuery(siteId: string) {
  return useQuery({
    queryKey: goalsKey(siteId),
    queryFn: async () => {
      const body = await api<{ goals: Goal[] } | Goal[]>(`/api/v1/sites/${siteId}/goals`);
      return Array.isArray(body) ? body : body.goals;
    },
  });
}

export function useFunnelsQuery(siteId: string) {
  return useQuery({ queryKey: funnelsKey(siteId), queryFn: () => api<{ funnels: Funnel[] }>(`/api/v1/sites/${siteId}/funnels`) });
}

/** A funnel's results over `dateRange` (the query API's range, a custom one as `start,end`). */
export function useFunnelResultsQuery(funnelId: string | number | null, dateRange: string, breakdown: string | null) {
  const params = new URLSearchParams({ date_range: dateRange });
  if (breakdown) params.set("breakdown", breakdown);
  return useQuery({
    queryKey: ["funnel-results", funnelId, params.toString()],
    queryFn: () => api<FunnelResults>(`/api/v1/funnels/${funnelId}/results?${params}`),
    enabled: funnelId !== null,
    placeholderData: keepPreviousData,
  });
}

export function useVisitorQuery(siteId: string, visitorId: string) {
  return useQuery({
    queryKey: ["visitor", siteId, visitorId],
    queryFn: () => api<VisitorProfile>(`/api/v1/visitors/${encodeURIComponent(visitorId)}?site_id=${encodeURIComponent(siteId)}`),
  });
}

export const annotationsKey = (siteId: string) => ["annotations", siteId];

/** The site's annotations in the chart's range `[from, to)` (ISO instants), newest first. */
export function useAnnotationsQuery(siteId: string, range: [string, string] | null) {
  const params = new URLSearchParams(range ? { from: range[0], to: range[1], limit: "1000" } : {});
  return useQuery({
    queryKey: [...annotationsKey(siteId), params.toString()],
    queryFn: () => api<{ annotations: Annotation[] }>(`/api/v1/sites/${siteId}/annotations?${params}`),
    enabled: range !== null,
    placeholderData: keepPreviousData,
  });
}

/** An annotation's card numbers: 7 days before and after a commit or note, what came from X after a post. */
export function useImpactQuery(siteId: string, annotationId: number) {
  return useQuery({
    queryKey: ["impact", siteId, annotationId],
    queryFn: () => api<AroundImpact | PostImpact>(`/api/v1/sites/${siteId}/annotations/${annotationId}/impact`),
    staleTime: 60_000,
  });
}

/** The posts on X in `[from, to)` with the visitors and revenue that came from X after each, most first. */
export function useMentionsQuery(siteId: string, range: [string, string] | null, limit = 10) {
  const params = new URLSearchParams(range ? { from: range[0], to: range[1], limit: String(limit) } : {});
  return useQuery({
    queryKey: ["mentions", siteId, params.toString()],
    queryFn: () => api<Mentions>(`/api/v1/sites/${siteId}/mentions?${params}`),
    enabled: range !== null,
    placeholderData: keepPreviousData,
  });
}
