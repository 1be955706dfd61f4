/** The Funnels panel: one of the site's funnels over the dashboard's date range, a bar per step
 * (visitors, conversion from the first and previous step, drop-off, median time to the next),
 * and optionally its step visitors split by a visit dimension. A shared view reads funnels too
 * (the API lets share links read them), without the links to settings. */
import { useState } from "react";
import { Link } from "react-router";
import { Card, ErrorBox, Spinner } from "../components/ui";
import { useFunnelResultsQuery, useFunnelsQuery } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import type { FunnelResults } from "../lib/api";
import { formatNumber } from "../lib/format";
import { dateRange } from "../state/query";
import { funnelBars, stepTitle } from "./funnel";
import { dimensionLabel, FUNNEL_BREAKDOWNS, valueLabel } from "./panels";
import { useSiteView } from "./SiteContext";

const SELECT = "rounded-md border border-gray-300 bg-white px-2 py-1 text-sm dark:border-gray-700 dark:bg-gray-900";

export function FunnelChart({ results }: { results: FunnelResults }) {
  const bars = funnelBars(results.steps);
  return (
    <ol className="space-y-3" data-testid="funnel-chart">
      {bars.map((bar) => (
        <li key={bar.number} data-testid="funnel-step" aria-label={`Step ${bar.number}: ${bar.title}`}>
          <div className="flex items-baseline justify-between gap-2 text-sm">
            <span className="min-w-0 truncate">
              <span className="mr-1 text-gray-500 dark:text-gray-400">{bar.number}.</span>
              <span className="font-medium">{bar.title}</span>
              {bar.detail && <span className="ml-2 text-xs text-gray-500 dark:text-gray-400">{bar.detail}</span>}
            </span>
            <span className="shrink-0 tabular-nums">
              <strong data-testid="step-visitors">{bar.visitors}</strong> {bar.visitors === "1" ? "visitor" : "visitors"} · <span data-testid="step-from-first">{bar.fromFirst}</span>
            </span>
          </div>
          <div className="mt-1 h-6 rounded bg-gray-100 dark:bg-gray-800" role="presentation">
            <div className="h-6 rounded bg-indigo-500 dark:bg-indigo-400" style={{ width: `${bar.width}%` }} />
          </div>
          <dl className="mt-1 flex flex-wrap gap-x-4 gap-y-0.5 text-xs text-gray-600 tabular-nums dark:text-gray-400">
            {bar.fromPrevious && <div className="flex gap-1"><dt>From previous</dt><dd data-testid="step-from-previous">{bar.fromPrevious}</dd></div>}
            {bar.dropOff && <div className="flex gap-1"><dt>Drop-off</dt><dd data-testid="step-drop-off">{bar.dropOff}</dd></div>}
            {bar.toNext && <div className="flex gap-1"><dt>Median time to next step</dt><dd data-testid="step-to-next">{bar.toNext}</dd></div>}
          </dl>
        </li>
      ))}
    </ol>
  );
}

/** Step visitors per breakdown value: a row per value, a column per step. */
export function FunnelBreakdown({ results, dimension }: { results: FunnelResults; dimension: string }) {
  const rows = results.breakdown ?? [];
  if (!rows.length) return <p className="py-3 text-center text-sm text-gray-500 dark:text-gray-400">No visitors to split.</p>;
  return (
    <div className="-mx-4 overflow-x-auto px-4">
      <table className="w-full text-sm" data-testid="funnel-breakdown">
        <thead>
          <tr className="text-left text-xs uppercase tracking-wide text-gray-500 dark:text-gray-400">
            <th className="pb-1 pr-2 font-medium">{dimensionLabel(dimension)}</th>
            {results.steps.map((step, i) => (
              <th key={step.index} className="pb-1 pl-2 text-right font-medium" title={stepTitle(step)}>{i + 1}</th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-gray-100 dark:divide-gray-800">
          {rows.map((row) => (
            <tr key={row.value ?? ""}>
              <td className="max-w-48 truncate py-1 pr-2">{valueLabel(dimension, row.value)}</td>
              {row.steps.map((step) => <td key={step.index} className="py-1 pl-2 text-right tabular-nums">{formatNumber(step.visitors)}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function FunnelPanel() {
  const { site, readOnly } = useSiteView();
  const [state] = useDashboardState();
  const funnels = useFunnelsQuery(site.id);
  const [chosen, setChosen] = useState<string | null>(null);
  const [breakdown, setBreakdown] = useState("");
  const list = funnels.data?.funnels ?? [];
  const funnel = list.find((f) => String(f.id) === chosen) ?? list[0] ?? null;
  const range = dateRange(state);
  const results = useFunnelResultsQuery(funnel?.id ?? null, Array.isArray(range) ? range.join(",") : range, breakdown || null);
  const settings = `/sites/${site.id}/settings/funnels`;
  return (
    <Card>
      <section aria-label="Funnels">
        <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
          <h2 className="font-semibold">Funnels</h2>
          {list.length > 0 && (
            <div className="flex flex-wrap items-center gap-2">
              <select aria-label="Funnel" className={SELECT} value={String(funnel?.id ?? "")} onChange={(e) => setChosen(e.target.value)}>
                {list.map((f) => <option key={f.id} value={String(f.id)}>{f.name}</option>)}
              </select>
              <select aria-label="Breakdown" className={SELECT} value={breakdown} onChange={(e) => setBreakdown(e.target.value)}>
                <option value="">No breakdown</option>
                {FUNNEL_BREAKDOWNS.map((d) => <option key={d} value={d}>By {dimensionLabel(d).toLowerCase()}</option>)}
              </select>
            </div>
          )}
        </div>
        <ErrorBox error={funnels.error} />
        {funnels.isPending ? <Spinner /> : !funnel ? (
          !funnels.error && (
            <p className="py-6 text-center text-sm text-gray-500 dark:text-gray-400">
              No funnels yet: a funnel follows visitors through 2–8 steps (pages or goals) in order.{" "}
              {!readOnly && <Link className="text-indigo-600 underline dark:text-indigo-400" to={settings}>Create one in Settings → Funnels</Link>}
            </p>
          )
        ) : (
          <>
            <ErrorBox error={results.error} />
            {!results.data ? (!results.error && <Spinner />) : (
              <div className="space-y-4">
                <FunnelChart results={results.data} />
                {breakdown && <FunnelBreakdown results={results.data} dimension={breakdown} />}
              </div>
            )}
            <p className="mt-3 flex flex-wrap justify-between gap-2 text-xs text-gray-500 dark:text-gray-400">
              <span>{state.filters.length > 0 ? "The dashboard's filters do not narrow funnels." : "Visitors who reached each step in order, within the range."}</span>
              {!readOnly && <Link className="underline hover:text-gray-800 dark:hover:text-gray-200" to={settings}>Edit funnels</Link>}
            </p>
          </>
        )}
      </section>
    </Card>
  );
}
