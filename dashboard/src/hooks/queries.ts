/** One data hook per endpoint; stats hooks take a query built from the URL state. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, ApiError, queryStats, type Realtime, type SessionInfo, setCsrfToken, type Site, type StatsQuery } from "../lib/api";

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

/** Any stats query; the previous answer stays on screen while a new filter or range loads. */
export function useStatsQuery(query: StatsQuery, options: { enabled?: boolean; refetchInterval?: number } = {}) {
  return useQuery({
    queryKey: ["stats", query],
    queryFn: () => queryStats(query),
    placeholderData: keepPreviousData,
    ...options,
  });
}

export function useRealtimeQuery(siteId: string) {
  return useQuery({
    queryKey: ["realtime", siteId],
    queryFn: () => api<Realtime>(`/api/v1/realtime?site_id=${encodeURIComponent(siteId)}`),
    refetchInterval: 30_000,
  });
}
