/** The Sources panel's Keywords tab: the Google searches that showed the site (Search Console's queries,
 * clicks, impressions, CTR and average position) for the dashboard's range, comparison and page filter.
 * A site without Search Console connected is told how to connect it, and sees the `utm_term` keywords
 * of its tagged links meanwhile. */
import { useState } from "react";
import { Link } from "react-router";
import { cx, ErrorBox, Spinner } from "../components/ui";
import { useIntegrationsQuery, useStatsQuery } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import type { Metric, StatsRow } from "../lib/api";
import { metricDefinition } from "../lib/definitions";
import { changeUnit, formatChange, formatMetric } from "../lib/format";
import { KEYWORD_METRICS, keywordsQuery, searchFilters, type Sort } from "../state/query";
import { MetricsTable, SortHeader } from "./MetricsTable";
import { UTM_TERM_TAB } from "./panels";
import { useSiteView } from "./SiteContext";

const NOTE = "text-xs text-gray-500 dark:text-gray-400";
/** Beside the clicks on a phone: the CTR; impressions and position from `sm` up. */
const columnClass = (metric: string) =>
  cx(metric === "search:impressions" ? "w-24" : "w-20",
     (metric === "search:impressions" || metric === "search:position") && "hidden sm:table-cell");

export function KeywordsTab() {
  const { site, readOnly } = useSiteView();
  // The shared view cannot read the site's integrations: it shows Search Console's rows when there are any.
  const integrations = useIntegrationsQuery(site.id, { enabled: !readOnly });
  if (!readOnly && integrations.isPending) return <Spinner />;
  const searchConsole = integrations.data?.integrations.find((integration) => integration.kind === "search_console");
  if (readOnly || searchConsole?.connected) return <SearchKeywords fallback={readOnly} />;
  return <NotConnected />;
}

function NotConnected() {
  const { site } = useSiteView();
  return (
    <div data-testid="keywords-not-connected">
      <p className="mb-3 rounded bg-indigo-50 p-2 text-sm text-indigo-900 dark:bg-indigo-950/50 dark:text-indigo-200">
        Connect Google Search Console to see the searches that show this site: their clicks, impressions,
        click-through rate and average position.{" "}
        <Link className="font-medium underline" to={`/sites/${site.id}/settings/integrations`}>
          Settings → Integrations
        </Link>
      </p>
      <p className={cx(NOTE, "mb-1")}>Meanwhile, the keywords of tagged links (<code>utm_term</code>):</p>
      <MetricsTable tab={UTM_TERM_TAB} empty={<p className={cx(NOTE, "py-4 text-center")}>
        No visits with a <code>utm_term</code> in this range.</p>} />
    </div>
  );
}

/** A metric's value and, with a comparison, its change: green when it got better (a lower position is). */
function Cell({ metric, row, index }: { metric: Metric; row: StatsRow; index: number }) {
  const change = row.comparison?.change[index];
  const better = metricDefinition(metric)?.lower_is_better ? (change ?? 0) < 0 : (change ?? 0) > 0;
  // A position moves by places, not by percentage points.
  const unit = metric === "search:position" ? "" : changeUnit(metric);
  return (
    <td className={cx("py-1 text-right tabular-nums", columnClass(metric))} data-metric={metric}>
      {formatMetric(metric, row.metrics[index])}
      {change ? (
        <span className={cx("block text-[10px] leading-3", better ? "text-green-600 dark:text-green-400"
          : "text-red-600 dark:text-red-400")}>{formatChange(change, unit)}</span>
      ) : null}
    </td>
  );
}

/** `fallback`: without rows, show the utm_term keywords (the shared view, which cannot tell whether
 * Search Console is connected). */
function SearchKeywords({ fallback }: { fallback: boolean }) {
  const { site } = useSiteView();
  const [state] = useDashboardState();
  const [sort, setSort] = useState<Sort>([KEYWORD_METRICS[0], "desc"]);
  const realtime = state.period === "realtime";
  const stats = useStatsQuery(keywordsQuery(site.id, state, 10, sort), { enabled: !realtime });
  if (realtime) {
    return <p className={cx(NOTE, "py-6 text-center")}>Search Console reports whole days: choose a longer range.</p>;
  }
  if (stats.error) return <ErrorBox error={stats.error} />;
  if (!stats.data) return <Spinner />;
  const rows = stats.data.results;
  if (!rows.length && fallback) return <MetricsTable tab={UTM_TERM_TAB} />;
  const { ignored } = searchFilters(state);
  // The bar follows the count the rows are ordered by (clicks when they are ordered by a rate).
  const bar = sort[0] === "search:impressions" ? 1 : 0;
  const max = Math.max(1, ...rows.map((row) => row.metrics[bar] ?? 0));
  return (
    <div data-testid="search-keywords">
      {rows.length ? (
        <table className="w-full table-fixed text-sm" data-dimension="search:query">
          <thead>
            <tr className="text-left text-xs uppercase tracking-wide text-gray-500 dark:text-gray-400">
              <th className="pb-1 font-medium">Query</th>
              {KEYWORD_METRICS.map((metric) => (
                <SortHeader key={metric} metric={metric} sort={sort} onSort={setSort} className={columnClass(metric)} />
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const query = row.dimensions[0] ?? "";
              return (
                <tr key={query} title={query}>
                  <td className="relative py-1 pr-2">
                    <div className="absolute inset-y-0.5 left-0 rounded bg-emerald-100 dark:bg-emerald-900/40"
                      style={{ width: `${(Math.max(0, row.metrics[bar] ?? 0) / max) * 100}%` }} />
                    <span className="relative block truncate px-2">{query}</span>
                  </td>
                  {KEYWORD_METRICS.map((metric, i) => <Cell key={metric} metric={metric} row={row} index={i} />)}
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className={cx(NOTE, "py-6 text-center")}>
          No Search Console data for this range. Google reports a day about two days after it ends.
        </p>
      )}
      <p className={cx(NOTE, "mt-2")}>
        From Google Search Console; position is the average, weighted by impressions (1 = top).
        {ignored.length > 0 && " Filters other than the page do not apply to searches."}
      </p>
    </div>
  );
}
