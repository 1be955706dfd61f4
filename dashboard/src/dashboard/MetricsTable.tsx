/** One panel: tabs over dimensions, each a table of rows with their visitors and revenue;
 * a click on a row filters by it, a click on a column header sorts by it. */
import { type ReactNode, useState } from "react";
import { Card, cx, ErrorBox, Spinner, Tabs } from "../components/ui";
import { queryStatsWithRevenue, useStatsWithRevenue } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import type { Metric } from "../lib/api";
import { formatMetric } from "../lib/format";
import { panelQuery, type Sort } from "../state/query";
import { addFilter } from "../state/url";
import { download, toCsv } from "./csv";
import { dimensionLabel, METRIC_LABELS, type PanelTab, valueLabel } from "./panels";
import { RevenueUnavailable } from "./RevenueUnavailable";
import { useSiteView } from "./SiteContext";

/** A column header that sorts the rows by its metric: descending first, a second click ascending. */
export function SortHeader({ metric, label, sort, onSort, className }:
  { metric: Metric; label?: string; sort: Sort; onSort: (sort: Sort) => void; className?: string }) {
  const active = sort[0] === metric;
  const name = METRIC_LABELS[metric] ?? metric;
  return (
    <th className={cx("pb-1 text-right font-medium", className)}
      aria-sort={active ? (sort[1] === "desc" ? "descending" : "ascending") : "none"}>
      <button type="button" className={cx("whitespace-nowrap uppercase tracking-wide hover:text-gray-800 dark:hover:text-gray-200",
        active && "text-gray-800 dark:text-gray-200")}
        title={`Sort by ${label ? `${name.toLowerCase()} (${label})` : name}`}
        onClick={() => onSort([metric, active && sort[1] === "desc" ? "asc" : "desc"])}>
        {label ?? name}{active ? (sort[1] === "desc" ? " ↓" : " ↑") : ""}
      </button>
    </th>
  );
}

/** Beside visitors on a phone: revenue; the panel's other counts from `sm` up. */
const columnClass = (metric: string, index: number) =>
  cx("w-20", index > 0 && metric !== "revenue" && "hidden sm:table-cell");

/** `empty`: what a tab without rows says (default: no data for this range). */
export function MetricsTable({ tab, empty }: { tab: PanelTab; empty?: ReactNode }) {
  const { site } = useSiteView();
  const [state, setState] = useDashboardState();
  const [sort, setSort] = useState<Sort>([tab.metrics[0], "desc"]);
  const stats = useStatsWithRevenue(panelQuery(site.id, state, tab, 10, sort));
  if (stats.error) return <ErrorBox error={stats.error} />;
  if (!stats.data) return <Spinner />;
  const rows = stats.data.results;
  const currency = stats.data.meta.currency ?? site.currency;
  const notice = stats.revenueError && <RevenueUnavailable error={stats.revenueError} />;
  if (!rows.length) {
    return <>{notice}{empty ?? <p className="py-6 text-center text-sm text-gray-500 dark:text-gray-400">No data for this range.</p>}</>;
  }
  // The bar follows the column the rows are ordered by (visitors when that one is refused).
  const barMetric = stats.metrics.includes(sort[0]) ? sort[0] : stats.metrics[0];
  const max = Math.max(1, ...rows.map((row) => stats.metric(row, barMetric) ?? 0));
  return (
    <>
      <table className="w-full table-fixed text-sm" data-dimension={tab.dimension}>
        <thead>
          <tr className="text-left text-xs uppercase tracking-wide text-gray-500 dark:text-gray-400">
            <th className="pb-1 font-medium">{dimensionLabel(tab.dimension)}</th>
            {stats.metrics.map((metric, i) => (
              <SortHeader key={metric} metric={metric} label={tab.headers?.[metric]} sort={sort} onSort={setSort}
                className={columnClass(metric, i)} />
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const value = row.dimensions[0] ?? "";
            return (
              <tr key={value} className="group cursor-pointer" title={`Filter by ${valueLabel(tab.dimension, value)}`}
                onClick={() => setState(addFilter(state, tab.dimension, value))}>
                <td className="relative py-1 pr-2">
                  <div className="absolute inset-y-0.5 left-0 rounded bg-indigo-100 group-hover:bg-indigo-200 dark:bg-indigo-900/50 dark:group-hover:bg-indigo-800/60"
                    style={{ width: `${(Math.max(0, stats.metric(row, barMetric) ?? 0) / max) * 100}%` }} />
                  <span className="relative block truncate px-2">{valueLabel(tab.dimension, value)}</span>
                </td>
                {stats.metrics.map((metric, i) => (
                  <td key={metric} className={cx("py-1 text-right tabular-nums", columnClass(metric, i))}
                    data-metric={metric}>
                    {formatMetric(metric, row.metrics[i], currency)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      {notice}
    </>
  );
}

async function exportCsv(siteId: string, tab: PanelTab, state: ReturnType<typeof useDashboardState>[0]) {
  const { answer, metrics } = await queryStatsWithRevenue(panelQuery(siteId, state, tab, 10_000));
  const header = [dimensionLabel(tab.dimension), ...metrics];
  download(`${siteId}-${tab.id}.csv`, toCsv(header, answer.results.map((row) => [row.dimensions[0] ?? "", ...row.metrics])));
}

export function Panel({ title, tabs, footer, extraTabs, empty }:
  { title: string; tabs: PanelTab[]; footer?: ReactNode; extraTabs?: Record<string, ReactNode>; empty?: ReactNode }) {
  const allTabs = [...tabs.map(({ id, label }) => ({ id, label })),
                   ...Object.keys(extraTabs ?? {}).map((id) => ({ id, label: id }))];
  const [active, setActive] = useState(tabs[0].id);
  const { site } = useSiteView();
  const [state] = useDashboardState();
  const [exportError, setExportError] = useState<unknown>(null);
  const tab = tabs.find((t) => t.id === active);
  return (
    <Card className="flex flex-col md:min-h-80">
      <section aria-label={title} className="flex flex-1 flex-col">
        <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
          <h2 className="font-semibold">{title}</h2>
          {allTabs.length > 1 && <Tabs tabs={allTabs} active={active} onChange={setActive} />}
        </div>
        <div className="flex-1">{tab ? <MetricsTable key={tab.id} tab={tab} empty={empty} /> : extraTabs?.[active]}</div>
        <ErrorBox error={exportError} />
        <div className="mt-2 flex items-center justify-between gap-2 text-xs text-gray-500 dark:text-gray-400">
          <span>{footer}</span>
          {tab && (
            <button className="underline hover:text-gray-800 dark:hover:text-gray-200"
              onClick={() => exportCsv(site.id, tab, state).then(() => setExportError(null), setExportError)}>
              Export CSV
            </button>
          )}
        </div>
      </section>
    </Card>
  );
}
