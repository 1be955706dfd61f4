import { createContext, useContext } from "react";

export interface DashboardSite {
  id: string;
  domain: string;
  name: string | null;
  timezone: string;
  currency: string;
  /** The viewer's role (`GET /api/v1/sites/{id}`); none on the shared view. */
  role?: string | null;
}

/** The site on screen, and whether this is the read-only shared view. */
export interface SiteView { site: DashboardSite; readOnly: boolean }

export const SiteContext = createContext<SiteView | null>(null);

export function useSiteView(): SiteView {
  const view = useContext(SiteContext);
  if (!view) throw new Error("useSiteView outside a site dashboard");
  return view;
}
