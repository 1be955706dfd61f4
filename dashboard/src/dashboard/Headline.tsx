/** The headline cards: totals of the range, their change, and the visitors on the site now. */
import type { ReactNode } from "react";
import { Link } from "react-router";
import { cx, ErrorBox } from "../components/ui";
import { useRealtimeQuery, useStatsQuery } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import { formatChange, formatMetric } from "../lib/format";
import { HEADLINE_METRICS, headlineQuery } from "../state/query";
import { METRIC_LABELS } from "./panels";
import { useSiteView } from "./SiteContext";

// A rise is good news except for these.
const LOWER_IS_BETTER = new Set(["bounce_rate"]);

function Stat({ label, value, change, good, children }:
  { label: string; value: string; change?: string; good?: boolean | null; children?: ReactNode }) {
  return (
    <div className="min-w-0 px-3 py-2" data-testid={`stat-${label}`}>
      <p className="truncate text-xs font-medium uppercase tracking-wide text-gray-500 dark:text-gray-400">{label}</p>
      <p className="text-xl font-semibold tabular-nums sm:text-2xl">{value}</p>
      {change ? (
        <p className={cx("text-xs tabular-nums", good === null ? "text-gray-500" : good ? "text-green-600 dark:text-green-400" : "text-red-600 dark:text-red-400")}>{change}</p>
      ) : null}
      {children}
    </div>
  );
}

function VisitorsNow() {
  const { site, readOnly } = useSiteView();
  const realtime = useRealtimeQuery(site.id);
  const value = realtime.error ? "–" : realtime.data ? String(realtime.data.visitors) : "…";
  return (
    <Stat label="Visitors now" value={value}>
      {!readOnly && <Link to={`/sites/${site.id}/realtime`} className="text-xs text-indigo-600 underline dark:text-indigo-400">
        <span className="mr-1 inline-block h-2 w-2 rounded-full bg-green-500" />live view</Link>}
      {realtime.error && <p className="text-xs text-red-600">{(realtime.error as Error).message}</p>}
    </Stat>
  );
}

export function Headline() {
  const { site } = useSiteView();
  const [state] = useDashboardState();
  const stats = useStatsQuery(headlineQuery(site.id, state));
  const row = stats.data?.results[0];
  return (
    <div>
      <ErrorBox error={stats.error} />
      <div className="grid grid-cols-2 divide-gray-100 rounded-lg border border-gray-200 bg-white sm:grid-cols-4 lg:grid-cols-7 dark:divide-gray-800 dark:border-gray-800 dark:bg-gray-900">
        <VisitorsNow />
        {HEADLINE_METRICS.map((metric, i) => {
          const change = row?.comparison?.change[i];
          const good = change === null || change === undefined || change === 0 ? null
            : (change > 0) !== LOWER_IS_BETTER.has(metric);
          return (
            <Stat key={metric} label={METRIC_LABELS[metric]} value={row ? formatMetric(metric, row.metrics[i]) : "…"}
              change={row?.comparison ? formatChange(change, metric === "bounce_rate" ? "pp" : "%") || "new" : undefined}
              good={good} />
          );
        })}
      </div>
    </div>
  );
}
