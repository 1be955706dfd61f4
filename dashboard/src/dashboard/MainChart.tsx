/** Visitors and pageviews over time, and the revenue of each bucket as bars on a right-hand
 * axis (Recharts: loaded with this chunk, not the first bundle). */
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card, ErrorBox, Spinner } from "../components/ui";
import { useStatsWithRevenue } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import { formatBucket, formatMoney, formatNumber } from "../lib/format";
import { chartQuery } from "../state/query";
import { defaultInterval, intervalsFor } from "../state/url";
import { RevenueUnavailable } from "./RevenueUnavailable";
import { useSiteView } from "./SiteContext";

export default function MainChart() {
  const { site } = useSiteView();
  const [state, setState] = useDashboardState();
  const interval = state.interval ?? defaultInterval(state);
  const stats = useStatsWithRevenue(chartQuery(site.id, state));
  const hasRevenue = stats.metrics.includes("revenue");
  const currency = stats.data?.meta.currency ?? site.currency;
  const data = (stats.data?.results ?? []).map((row) => ({
    label: formatBucket(String(row.dimensions[0]), interval),
    visitors: stats.metric(row, "visitors") ?? 0,
    pageviews: stats.metric(row, "pageviews") ?? 0,
    ...(hasRevenue ? { revenue: stats.metric(row, "revenue") ?? 0 } : {}),
    ...(row.comparison ? { "visitors (previous)": row.comparison.metrics[0] ?? 0 } : {}),
  }));
  const money = (value: number) => formatMoney(value, currency);
  return (
    <Card>
      <div className="mb-2 flex items-center justify-between gap-2">
        <h2 className="font-semibold">{hasRevenue ? "Visitors and revenue" : "Visitors and pageviews"}</h2>
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
            <ComposedChart data={data} margin={{ top: 5, right: hasRevenue ? 0 : 10, bottom: 0, left: -20 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.1} />
              <XAxis dataKey="label" stroke="currentColor" strokeOpacity={0.5} minTickGap={20} />
              <YAxis yAxisId="count" stroke="currentColor" strokeOpacity={0.5} tickFormatter={formatNumber} allowDecimals={false} />
              {hasRevenue && (
                <YAxis yAxisId="money" orientation="right" stroke="#f59e0b" strokeOpacity={0.8} width={56}
                  tickFormatter={(value: number) => formatMoney(value, currency).replace(/\.00$/, "")} />
              )}
              <Tooltip contentStyle={{ background: "var(--color-gray-900)", color: "white", border: "none", borderRadius: 6 }}
                formatter={(value, name) => (name === "revenue" && typeof value === "number" ? money(value) : value)} />
              <Legend />
              {hasRevenue && (
                <Bar yAxisId="money" dataKey="revenue" fill="#f59e0b" fillOpacity={0.6} radius={[2, 2, 0, 0]} isAnimationActive={false} />
              )}
              <Line yAxisId="count" type="monotone" dataKey="visitors" stroke="#6366f1" strokeWidth={2} dot={false} isAnimationActive={false} />
              <Line yAxisId="count" type="monotone" dataKey="pageviews" stroke="#10b981" strokeWidth={2} dot={false} isAnimationActive={false} />
              {state.compare && <Line yAxisId="count" type="monotone" dataKey="visitors (previous)" stroke="#a5b4fc" strokeDasharray="4 4" dot={false} isAnimationActive={false} />}
            </ComposedChart>
          </ResponsiveContainer>
        </div>
      )}
      {stats.revenueError && <RevenueUnavailable error={stats.revenueError} />}
    </Card>
  );
}
