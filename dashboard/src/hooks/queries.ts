/** One data hook per endpoint; stats hooks take a query built from the URL state. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, ApiError, queryStats, type Realtime, type SessionInfo, setCsrfToken, type Site, type StatsQuery } from "../lib/api";

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
    retry: (failures, error) => failures < 1 && !(error instanceof ApiError && error.status < 500),
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
