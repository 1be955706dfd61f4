/** Visitors and pageviews over time (Recharts: loaded with this chunk, not the first bundle). */
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card, ErrorBox, Spinner } from "../components/ui";
import { useStatsQuery } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import { formatBucket, formatNumber } from "../lib/format";
import { chartQuery } from "../state/query";
import { defaultInterval, intervalsFor } from "../state/url";
import { useSiteView } from "./SiteContext";

export default function MainChart() {
  const { site } = useSiteView();
  const [state, setState] = useDashboardState();
  const interval = state.interval ?? defaultInterval(state);
  const stats = useStatsQuery(chartQuery(site.id, state));
  const data = (stats.data?.results ?? []).map((row) => ({
    label: formatBucket(String(row.dimensions[0]), interval),
    visitors: row.metrics[0] ?? 0,
    pageviews: row.metrics[1] ?? 0,
    ...(row.comparison ? { "visitors (previous)": row.comparison.metrics[0] ?? 0 } : {}),
  }));
  return (
    <Card>
      <div className="mb-2 flex items-center justify-between gap-2">
        <h2 className="font-semibold">Visitors and pageviews</h2>
        <select aria-label="Interval" value={interval}
          onChange={(e) => setState({ ...state, interval: e.target.value as typeof interval })}
          className="rounded-md border border-gray-300 bg-white px-2 py-1 text-sm dark:border-gray-700 dark:bg-gray-900">
          {intervalsFor(state).map((i) => <option key={i} value={i}>{i}</option>)}
        </select>
      </div>
      <ErrorBox error={stats.error} />
      {!stats.data && !stats.error ? <Spinner /> : (
        <div className="h-64 text-xs" data-testid="main-chart">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={data} margin={{ top: 5, right: 10, bottom: 0, left: -20 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.1} />
              <XAxis dataKey="label" stroke="currentColor" strokeOpacity={0.5} minTickGap={20} />
              <YAxis stroke="currentColor" strokeOpacity={0.5} tickFormatter={formatNumber} allowDecimals={false} />
              <Tooltip contentStyle={{ background: "var(--color-gray-900)", color: "white", border: "none", borderRadius: 6 }} />
              <Legend />
              <Line type="monotone" dataKey="visitors" stroke="#6366f1" strokeWidth={2} dot={false} isAnimationActive={false} />
              <Line type="monotone" dataKey="pageviews" stroke="#10b981" strokeWidth={2} dot={false} isAnimationActive={false} />
              {state.compare && <Line type="monotone" dataKey="visitors (previous)" stroke="#a5b4fc" strokeDasharray="4 4" dot={false} isAnimationActive={false} />}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </Card>
  );
}
