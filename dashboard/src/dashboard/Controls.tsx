/** Date range picker, comparison toggle, revenue attribution and the filter chips: each only
 * changes the URL. */
import { useState } from "react";
import { Button, cx } from "../components/ui";
import { useDashboardState } from "../hooks/useDashboardState";
import { type Attribution, type DashboardState, PERIOD_LABELS, type Period, removeFilter } from "../state/url";
import { dimensionLabel, valueLabel } from "./panels";

const PRESETS: Period[] = ["day", "7d", "30d", "month", "6mo", "12mo", "all"];

/** `comparison={false}`: the range only (the customers list has nothing to compare). */
export function DateRangePicker({ comparison = true }: { comparison?: boolean }) {
  const [state, setState] = useDashboardState();
  const [custom, setCustom] = useState(state.period === "custom");
  const [from, setFrom] = useState(state.from ?? "");
  const [to, setTo] = useState(state.to ?? "");
  const choose = (period: string) => {
    if (period === "custom") {
      setCustom(true);
      return;
    }
    setCustom(false);
    setState({ ...state, period: period as Period, from: null, to: null, interval: null });
  };
  const applyCustom = () => {
    if (from && to) setState({ ...state, period: "custom", from, to, interval: null });
  };
  return (
    <div className="flex flex-wrap items-center gap-2">
      <select aria-label="Date range" value={custom ? "custom" : state.period} onChange={(e) => choose(e.target.value)}
        className="rounded-md border border-gray-300 bg-white px-2 py-1.5 text-sm dark:border-gray-700 dark:bg-gray-900">
        {[...PRESETS, "custom" as Period].map((period) => <option key={period} value={period}>{PERIOD_LABELS[period]}</option>)}
      </select>
      {custom && (
        <span className="flex flex-wrap items-center gap-1 text-sm">
          <input aria-label="From" type="date" value={from} onChange={(e) => setFrom(e.target.value)}
            className="rounded-md border border-gray-300 bg-white px-2 py-1 dark:border-gray-700 dark:bg-gray-900" />
          <span>–</span>
          <input aria-label="To" type="date" value={to} onChange={(e) => setTo(e.target.value)}
            className="rounded-md border border-gray-300 bg-white px-2 py-1 dark:border-gray-700 dark:bg-gray-900" />
          <Button variant="secondary" className="py-1" onClick={applyCustom} disabled={!from || !to}>Apply</Button>
        </span>
      )}
      {comparison && (
        <label className={cx("flex items-center gap-1 text-sm", state.period === "all" && "opacity-50")}>
          <input type="checkbox" checked={state.compare} disabled={state.period === "all"}
            onChange={(e) => setState({ ...state, compare: e.target.checked })} />
          Compare to previous period
        </label>
      )}
    </div>
  );
}

const ATTRIBUTION_LABELS: Record<Attribution, [label: string, help: string]> = {
  first_touch: ["First touch", "Revenue counts for the paying visitor's first visit"],
  last_touch: ["Last touch", "Revenue counts for the visit linked to the payment, else the last non-direct one before it"],
};

/** Which visit a payment's revenue is credited to in the panels' rows (sent with every query). */
export function AttributionToggle() {
  const [state, setState] = useDashboardState();
  return (
    <div role="group" aria-label="Revenue attribution" className="flex items-center gap-2 text-sm">
      <span className="text-gray-600 dark:text-gray-400">Revenue by</span>
      <span className="inline-flex overflow-hidden rounded-md border border-gray-300 dark:border-gray-700">
        {(Object.keys(ATTRIBUTION_LABELS) as Attribution[]).map((attribution) => (
          <button key={attribution} type="button" aria-pressed={state.attribution === attribution}
            title={ATTRIBUTION_LABELS[attribution][1]}
            onClick={() => setState({ ...state, attribution })}
            className={cx("px-2 py-1", state.attribution === attribution
              ? "bg-indigo-600 text-white"
              : "bg-white text-gray-700 hover:bg-gray-50 dark:bg-gray-900 dark:text-gray-200 dark:hover:bg-gray-800")}>
            {ATTRIBUTION_LABELS[attribution][0]}
          </button>
        ))}
      </span>
    </div>
  );
}

export function FilterChips() {
  const [state, setState] = useDashboardState();
  if (!state.filters.length) return null;
  return (
    <div className="flex flex-wrap items-center gap-2" aria-label="Filters">
      {state.filters.map((filter, index) => (
        <span key={index} className="inline-flex items-center gap-1 rounded-full bg-indigo-100 py-1 pl-3 pr-1 text-sm text-indigo-900 dark:bg-indigo-900/60 dark:text-indigo-100">
          <span>{dimensionLabel(filter[1])} {filter[0].replace("_", " ")} <strong>{filter[2].map((v) => valueLabel(filter[1], v)).join(" or ")}</strong></span>
          <button aria-label={`Remove filter ${dimensionLabel(filter[1])}`} className="rounded-full px-1.5 hover:bg-indigo-200 dark:hover:bg-indigo-800"
            onClick={() => setState(removeFilter(state, index))}>×</button>
        </span>
      ))}
      {state.filters.length > 1 && (
        <button className="text-sm text-gray-500 underline" onClick={() => setState({ ...state, filters: [] } as DashboardState)}>Clear all</button>
      )}
    </div>
  );
}
