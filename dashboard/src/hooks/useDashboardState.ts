import { useCallback, useMemo } from "react";
import { useLocation, useNavigate } from "react-router";
import { type DashboardState, parseSearch, stringifySearch } from "../state/url";

/** The URL is the state: read it, and change it by navigating (so Back undoes a filter). */
export function useDashboardState(): [DashboardState, (next: DashboardState) => void] {
  const location = useLocation();
  const navigate = useNavigate();
  const state = useMemo(() => parseSearch(location.search), [location.search]);
  const update = useCallback(
    (next: DashboardState) => navigate({ pathname: location.pathname, search: stringifySearch(next) }),
    [navigate, location.pathname],
  );
  return [state, update];
}
