/** The headline cards: totals of the range (traffic, revenue, conversion), their change, and
 * the visitors on the site now. */
import type { UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { cx, ErrorBox } from "../components/ui";
import { useRealtimeQuery, useStatsQuery } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import type { StatsResponse } from "../lib/api";
import { metricDefinition } from "../lib/definitions";
import { changeUnit, formatChange, formatMetric } from "../lib/format";
import {
  conversionQuery, goalInContext, HEADLINE_METRICS, headlineQuery, revenueHeadlineMetrics, revenueHeadlineQuery,
} from "../state/query";
import { METRIC_LABELS } from "./panels";
import { useSiteView } from "./SiteContext";

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

/** One query of the headline (traffic, money with the conversion rate, or a goal's conversion
 * rate: each on its own, so one refused does not blank the others) and the metrics it asked. */
interface Answer { result: UseQueryResult<StatsResponse>; metrics: readonly string[] }

function valueOf({ result, metrics }: Answer, metric: string, currency: string): string {
  const row = result.data?.results[0];
  const index = metrics.indexOf(metric);
  if (result.error) return "–";
  return row && index >= 0 ? formatMetric(metric, row.metrics[index], currency) : "…";
}

/** A card of one metric; `showError`: the card says why its query failed (once per query). */
function MetricStat({ metric, answer, showError = false, children }:
  { metric: string; answer: Answer; showError?: boolean; children?: ReactNode }) {
  const { site } = useSiteView();
  const { result, metrics } = answer;
  const row = result.data?.results[0];
  const currency = result.data?.meta.currency ?? site.currency;
  const index = metrics.indexOf(metric);
  const change = index < 0 ? undefined : row?.comparison?.change[index];
  const good = change === null || change === undefined || change === 0 ? null
    : (change > 0) !== Boolean(metricDefinition(metric)?.lower_is_better);
  return (
    <Stat label={METRIC_LABELS[metric]} value={valueOf(answer, metric, currency)} good={good}
      change={row?.comparison ? formatChange(change, changeUnit(metric)) || "new" : undefined}>
      {children}
      {showError && result.error && (
        <p className="text-xs break-words text-red-600 dark:text-red-400">{result.error.message}</p>
      )}
    </Stat>
  );
}

/** Net revenue, and beneath it what it is made of: new, renewals, refunds. */
function RevenueStat({ answer }: { answer: Answer }) {
  const { site } = useSiteView();
  const currency = answer.result.data?.meta.currency ?? site.currency;
  return (
    <MetricStat metric="revenue" answer={answer} showError>
      {!answer.result.error && (
        <dl className="mt-1 grid grid-cols-[auto_1fr] gap-x-2 text-xs text-gray-500 dark:text-gray-400" data-testid="revenue-parts">
          {(["revenue_new", "revenue_renewal", "refunds"] as const).map((metric) => (
            <div key={metric} className="contents">
              <dt>{METRIC_LABELS[metric]}</dt>
              <dd className="truncate text-right tabular-nums">{valueOf(answer, metric, currency)}</dd>
            </div>
          ))}
        </dl>
      )}
    </MetricStat>
  );
}

export function Headline() {
  const { site } = useSiteView();
  const [state] = useDashboardState();
  const traffic: Answer = { result: useStatsQuery(headlineQuery(site.id, state)), metrics: HEADLINE_METRICS };
  const money: Answer = { result: useStatsQuery(revenueHeadlineQuery(site.id, state)), metrics: revenueHeadlineMetrics(state) };
  const goal = goalInContext(state);
  const goalConversion: Answer = {
    result: useStatsQuery(conversionQuery(site.id, state), { enabled: goal }), metrics: ["conversion_rate"],
  };
  const conversion = goal ? goalConversion : money;
  return (
    <div>
      {/* The traffic query's error once, above its cards; the money's and the conversion's in their cards. */}
      <ErrorBox error={traffic.result.error} />
      <div className="grid grid-cols-2 divide-gray-100 rounded-lg border border-gray-200 bg-white sm:grid-cols-4 lg:grid-cols-5 dark:divide-gray-800 dark:border-gray-800 dark:bg-gray-900">
        <MetricStat metric="visitors" answer={traffic} />
        <RevenueStat answer={money} />
        <MetricStat metric="conversion_rate" answer={conversion} showError />
        <MetricStat metric="revenue_per_visitor" answer={money} />
        {HEADLINE_METRICS.filter((metric) => metric !== "visitors").map((metric) => (
          <MetricStat key={metric} metric={metric} answer={traffic} />
        ))}
        <VisitorsNow />
      </div>
    </div>
  );
}
