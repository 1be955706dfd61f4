/** One panel: tabs over dimensions, each a table of rows; a click on a row filters by it. */
import { type ReactNode, useState } from "react";
import { Card, ErrorBox, Spinner, Tabs } from "../components/ui";
import { useStatsQuery } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import { queryStats } from "../lib/api";
import { formatMetric } from "../lib/format";
import { panelQuery } from "../state/query";
import { addFilter } from "../state/url";
import { download, toCsv } from "./csv";
import { dimensionLabel, METRIC_LABELS, type PanelTab, valueLabel } from "./panels";
import { useSiteView } from "./SiteContext";

export function MetricsTable({ tab }: { tab: PanelTab }) {
  const { site } = useSiteView();
  const [state, setState] = useDashboardState();
  const stats = useStatsQuery(panelQuery(site.id, state, tab));
  if (stats.error) return <ErrorBox error={stats.error} />;
  if (!stats.data) return <Spinner />;
  const rows = stats.data.results;
  if (!rows.length) return <p className="py-6 text-center text-sm text-gray-500 dark:text-gray-400">No data for this range.</p>;
  const max = Math.max(1, ...rows.map((row) => row.metrics[0] ?? 0));
  return (
    <table className="w-full table-fixed text-sm" data-dimension={tab.dimension}>
      <thead>
        <tr className="text-left text-xs uppercase tracking-wide text-gray-500 dark:text-gray-400">
          <th className="pb-1 font-medium">{dimensionLabel(tab.dimension)}</th>
          {tab.metrics.map((metric) => <th key={metric} className="w-20 pb-1 text-right font-medium">{METRIC_LABELS[metric] ?? metric}</th>)}
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
                  style={{ width: `${((row.metrics[0] ?? 0) / max) * 100}%` }} />
                <span className="relative block truncate px-2">{valueLabel(tab.dimension, value)}</span>
              </td>
              {row.metrics.map((metric, i) => (
                <td key={i} className="py-1 text-right tabular-nums">{formatMetric(tab.metrics[i], metric)}</td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

async function exportCsv(siteId: string, tab: PanelTab, state: ReturnType<typeof useDashboardState>[0]) {
  const answer = await queryStats(panelQuery(siteId, state, tab, 10_000));
  const header = [dimensionLabel(tab.dimension), ...tab.metrics];
  download(`${siteId}-${tab.id}.csv`, toCsv(header, answer.results.map((row) => [row.dimensions[0] ?? "", ...row.metrics])));
}

export function Panel({ title, tabs, footer, extraTabs }:
  { title: string; tabs: PanelTab[]; footer?: ReactNode; extraTabs?: Record<string, ReactNode> }) {
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
          <Tabs tabs={allTabs} active={active} onChange={setActive} />
        </div>
        <div className="flex-1">{tab ? <MetricsTable tab={tab} /> : extraTabs?.[active]}</div>
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
