/** One site's dashboard: controls, headline, chart, the four panels, goals, funnels and mentions; all read the URL. */
import { lazy, Suspense } from "react";
import { Link, useLocation } from "react-router";
import { Spinner } from "../components/ui";
import { AttributionToggle, DateRangePicker, FilterChips } from "./Controls";
import { FunnelPanel } from "./FunnelPanel";
import { GoalsPanel } from "./GoalsPanel";
import { Headline } from "./Headline";
import { KeywordsTab } from "./KeywordsTab";
import { MentionsPanel } from "./MentionsPanel";
import { Panel } from "./MetricsTable";
import { DEVICE_TABS, LOCATION_TABS, PAGE_TABS, SOURCE_TABS } from "./panels";
import { SiteContext, type SiteView } from "./SiteContext";

const MainChart = lazy(() => import("./MainChart"));
const WorldMap = lazy(() => import("./WorldMap"));

export const DBIP_CREDIT = (
  <a href="https://db-ip.com" className="underline" target="_blank" rel="noreferrer">IP geolocation by DB-IP</a>
);

export function SiteDashboard({ view }: { view: SiteView }) {
  const { site, readOnly } = view;
  const location = useLocation();
  return (
    <SiteContext.Provider value={view}>
      <div className="space-y-4">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <div className="min-w-0">
            <h1 className="truncate text-xl font-semibold">{site.name || site.domain}</h1>
            <p className="text-xs text-gray-500 dark:text-gray-400">Times in {site.timezone}</p>
          </div>
          {!readOnly && (
            <nav className="flex gap-3 text-sm">
              <Link className="text-indigo-600 dark:text-indigo-400" to={`/sites/${site.id}/realtime`}>Realtime</Link>
              <Link className="text-indigo-600 dark:text-indigo-400" to={`/sites/${site.id}/customers${location.search}`}>Customers</Link>
              <Link className="text-indigo-600 dark:text-indigo-400" to={`/sites/${site.id}/settings`}>Settings</Link>
            </nav>
          )}
        </div>
        <div className="flex flex-wrap items-center justify-between gap-2">
          <DateRangePicker />
          <AttributionToggle />
        </div>
        <FilterChips />
        <Headline />
        <Suspense fallback={<Spinner />}><MainChart /></Suspense>
        <div className="grid gap-4 md:grid-cols-2">
          <Panel title="Sources" tabs={SOURCE_TABS} extraTabs={{ Keywords: <KeywordsTab /> }} />
          <Panel title="Pages" tabs={PAGE_TABS} />
          <Panel title="Locations" tabs={LOCATION_TABS} footer={DBIP_CREDIT}
            extraTabs={{ Map: <Suspense fallback={<Spinner />}><WorldMap /></Suspense> }} />
          <Panel title="Devices" tabs={DEVICE_TABS} />
          <GoalsPanel />
          <FunnelPanel />
          <MentionsPanel />
        </div>
      </div>
    </SiteContext.Provider>
  );
}
