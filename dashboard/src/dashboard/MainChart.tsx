/** Visitors and pageviews over time, and the revenue of each bucket as bars on a right-hand
 * axis (Recharts: loaded with this chunk, not the first bundle); the annotations as markers on
 * their buckets, with a card on hover or focus, and the notes written here. */
import { useMemo, useRef, useState } from "react";
import {
  Bar, CartesianGrid, ComposedChart, Legend, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis,
} from "recharts";
import { Button, Card, ErrorBox, Spinner } from "../components/ui";
import { useAnnotationsQuery, useStatsWithRevenue } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import { formatBucket, formatMoney, formatNumber } from "../lib/format";
import { chartQuery } from "../state/query";
import { defaultInterval, intervalsFor } from "../state/url";
import { AnnotationCard } from "./annotations/AnnotationCard";
import {
  cardPosition, KindToggles, MarkerLabel, type MarkerOpen, markerColour, useShownKinds,
} from "./annotations/ChartAnnotations";
import { groupByBucket, KINDS, type Kind } from "./annotations/grouping";
import { NoteForm } from "./annotations/NoteForm";
import { RevenueUnavailable } from "./RevenueUnavailable";
import { useSiteView } from "./SiteContext";

const MANAGERS = new Set(["owner", "admin"]);

export default function MainChart() {
  const { site, readOnly } = useSiteView();
  const canManage = !readOnly && MANAGERS.has(site.role ?? "");
  const [state, setState] = useDashboardState();
  const interval = state.interval ?? defaultInterval(state);
  const stats = useStatsWithRevenue(chartQuery(site.id, state));
  const hasRevenue = stats.metrics.includes("revenue");
  const currency = stats.data?.meta.currency ?? site.currency;
  const data = (stats.data?.results ?? []).map((row) => ({
    bucket: String(row.dimensions[0]),
    visitors: stats.metric(row, "visitors") ?? 0,
    pageviews: stats.metric(row, "pageviews") ?? 0,
    ...(hasRevenue ? { revenue: stats.metric(row, "revenue") ?? 0 } : {}),
    ...(row.comparison ? { "visitors (previous)": row.comparison.metrics[0] ?? 0 } : {}),
  }));
  const money = (value: number) => formatMoney(value, currency);

  const range = stats.data?.query.date_range ?? null;
  const annotations = useAnnotationsQuery(site.id, range);
  const [shown, toggleKind] = useShownKinds();
  const [open, setOpen] = useState<MarkerOpen | null>(null);
  const [adding, setAdding] = useState(false);
  const chartBox = useRef<HTMLDivElement>(null);
  const listed = useMemo(() => annotations.data?.annotations ?? [], [annotations.data]);
  const buckets = useMemo(() => (stats.data?.results ?? []).map((row) => String(row.dimensions[0])), [stats.data]);
  const groups = useMemo(() => groupByBucket(listed, buckets, interval, site.timezone, shown),
    [listed, buckets, interval, site.timezone, shown]);
  const counts = Object.fromEntries(KINDS.map((kind) => [kind, listed.filter((a) => a.kind === kind).length])) as Record<Kind, number>;
  const openGroup = open && groups.find((group) => group.bucket === open.bucket);
  return (
    <Card>
      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <h2 className="font-semibold">{hasRevenue ? "Visitors and revenue" : "Visitors and pageviews"}</h2>
        <div className="flex flex-wrap items-center gap-2">
          <KindToggles shown={shown} onToggle={(kind) => { setOpen(null); toggleKind(kind); }} counts={counts} />
          {canManage && (
            <Button variant="secondary" className="px-2 py-1 text-xs" aria-expanded={adding}
              onClick={() => setAdding(!adding)}>Add note</Button>
          )}
          <select aria-label="Interval" value={interval}
            onChange={(e) => setState({ ...state, interval: e.target.value as typeof interval })}
            className="rounded-md border border-gray-300 bg-white px-2 py-1 text-sm dark:border-gray-700 dark:bg-gray-900">
            {intervalsFor(state).map((i) => <option key={i} value={i}>{i}</option>)}
          </select>
        </div>
      </div>
      {adding && (
        <div className="mb-3 max-w-md rounded-md border border-gray-200 p-3 dark:border-gray-700">
          <NoteForm siteId={site.id} timeZone={site.timezone} onDone={() => setAdding(false)} />
        </div>
      )}
      <ErrorBox error={stats.error} />
      <ErrorBox error={annotations.error} />
      {!stats.data && !stats.error ? <Spinner /> : (
        <div ref={chartBox} className="relative h-64 text-xs" data-testid="main-chart" onMouseLeave={() => setOpen(null)}
          onKeyDown={(e) => { if (e.key === "Escape") setOpen(null); }}>
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart data={data} margin={{ top: 5, right: hasRevenue ? 0 : 10, bottom: 0, left: -20 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.1} />
              <XAxis dataKey="bucket" stroke="currentColor" strokeOpacity={0.5} minTickGap={20}
                tickFormatter={(bucket: string) => formatBucket(bucket, interval)} />
              <YAxis yAxisId="count" stroke="currentColor" strokeOpacity={0.5} tickFormatter={formatNumber} allowDecimals={false} />
              {hasRevenue && (
                <YAxis yAxisId="money" orientation="right" stroke="#f59e0b" strokeOpacity={0.8} width={56}
                  tickFormatter={(value: number) => formatMoney(value, currency).replace(/\.00$/, "")} />
              )}
              <Tooltip active={openGroup ? false : undefined} labelFormatter={(bucket) => formatBucket(String(bucket), interval)} contentStyle={{ background: "var(--color-gray-900)", color: "white", border: "none", borderRadius: 6 }}
                formatter={(value, name) => (name === "revenue" && typeof value === "number" ? money(value) : value)} />
              <Legend />
              {hasRevenue && (
                <Bar yAxisId="money" dataKey="revenue" fill="#f59e0b" fillOpacity={0.6} radius={[2, 2, 0, 0]} isAnimationActive={false} />
              )}
              <Line yAxisId="count" type="monotone" dataKey="visitors" stroke="#6366f1" strokeWidth={2} dot={false} isAnimationActive={false} />
              <Line yAxisId="count" type="monotone" dataKey="pageviews" stroke="#10b981" strokeWidth={2} dot={false} isAnimationActive={false} />
              {state.compare && <Line yAxisId="count" type="monotone" dataKey="visitors (previous)" stroke="#a5b4fc" strokeDasharray="4 4" dot={false} isAnimationActive={false} />}
              {groups.map((group) => (
                <ReferenceLine key={group.bucket} yAxisId="count" x={group.bucket} stroke={markerColour(group.annotations)}
                  strokeOpacity={0.6} strokeDasharray="2 3" ifOverflow="extendDomain"
                  label={<MarkerLabel bucket={group.bucket} annotations={group.annotations} onOpen={setOpen} />} />
              ))}
            </ComposedChart>
          </ResponsiveContainer>
          {openGroup && (
            <div className="absolute top-5 z-10" style={cardPosition(open.x, chartBox.current?.clientWidth ?? 0)}>
              <AnnotationCard annotations={openGroup.annotations} siteId={site.id} timeZone={site.timezone}
                canManage={canManage} onClose={() => setOpen(null)} />
            </div>
          )}
        </div>
      )}
      {stats.revenueError && <RevenueUnavailable error={stats.revenueError} />}
    </Card>
  );
}
