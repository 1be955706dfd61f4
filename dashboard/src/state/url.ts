/**
 * The dashboard's state lives in the URL: period, comparison, interval, revenue attribution and filters.
 * `parseSearch` and `stringifySearch` are pure inverses of each other (tested), so any view can
 * be bookmarked or shared, and every panel re-queries when the URL changes.
 *
 * URL shape: `?period=7d&compare=previous_period&interval=day&attribution=last_touch&f=is,visit:source,Google`
 * (custom ranges: `period=custom&from=2026-03-01&to=2026-03-10`). Filters keep the API's
 * `[op, dimension, values]` shape; several values are joined by `|` (`\|` and `\\` escape).
 */
import type { Filter } from "../lib/api";

export const PERIODS = ["realtime", "day", "7d", "30d", "month", "6mo", "12mo", "all", "custom"] as const;
export type Period = (typeof PERIODS)[number];
export const INTERVALS = ["minute", "hour", "day", "week", "month"] as const;
export type Interval = (typeof INTERVALS)[number];
/** Which visit a payment's revenue counts for in `visit:*` rows (SPEC §5): the paying visitor's
 * first one (the default), or the one linked to the payment. */
export const ATTRIBUTIONS = ["first_touch", "last_touch"] as const;
export type Attribution = (typeof ATTRIBUTIONS)[number];

export interface DashboardState {
  period: Period;
  from: string | null; // custom range, ISO dates, inclusive
  to: string | null;
  compare: boolean;
  interval: Interval | null; // null: the period's default
  attribution: Attribution;
  filters: Filter[];
}

export const DEFAULT_STATE: DashboardState = {
  period: "30d", from: null, to: null, compare: false, interval: null, attribution: "first_touch", filters: [],
};

const OPERATORS: ReadonlySet<string> = new Set<Filter[0]>(["is", "is_not", "contains", "contains_not", "matches", "matches_not"]);
const isOperator = (op: string): op is Filter[0] => OPERATORS.has(op);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function escapeValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\|/g, "\\|");
}

function splitValues(text: string): string[] {
  const values: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && i + 1 < text.length) {
      current += text[++i];
    } else if (c === "|") {
      values.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  values.push(current);
  return values;
}

export function serializeFilter([op, dimension, values]: Filter): string {
  return `${op},${dimension},${values.map(escapeValue).join("|")}`;
}

/** `is,visit:source,Google|Bing` → the filter; null for anything malformed. */
export function parseFilter(text: string): Filter | null {
  const first = text.indexOf(",");
  const second = first < 0 ? -1 : text.indexOf(",", first + 1);
  if (second < 0) return null;
  const op = text.slice(0, first);
  const dimension = text.slice(first + 1, second);
  if (!isOperator(op) || !/^(visit|event):[a-z_:.0-9A-Z-]+$/.test(dimension)) return null;
  return [op, dimension, splitValues(text.slice(second + 1))];
}

export function parseSearch(search: string | URLSearchParams): DashboardState {
  const params = typeof search === "string" ? new URLSearchParams(search) : search;
  const period = params.get("period") as Period | null;
  const interval = params.get("interval") as Interval | null;
  const from = params.get("from");
  const to = params.get("to");
  const attribution = params.get("attribution") as Attribution | null;
  const state: DashboardState = {
    ...DEFAULT_STATE,
    period: period && PERIODS.includes(period) ? period : DEFAULT_STATE.period,
    compare: params.get("compare") === "previous_period",
    interval: interval && INTERVALS.includes(interval) ? interval : null,
    attribution: attribution && ATTRIBUTIONS.includes(attribution) ? attribution : DEFAULT_STATE.attribution,
    filters: params.getAll("f").map(parseFilter).filter((f): f is Filter => f !== null),
  };
  if (state.period === "custom") {
    if (from && to && ISO_DATE.test(from) && ISO_DATE.test(to)) {
      [state.from, state.to] = from <= to ? [from, to] : [to, from];
    } else {
      state.period = DEFAULT_STATE.period;
    }
  }
  return state;
}

/** Readable: `:`, `,`, `/` and `|` stay as they are; everything else is percent-encoded. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/%3A/gi, ":").replace(/%2C/gi, ",").replace(/%2F/gi, "/")
    .replace(/%7C/gi, "|");
}

export function stringifySearch(state: DashboardState): string {
  const parts: string[] = [];
  if (state.period !== DEFAULT_STATE.period) parts.push(`period=${state.period}`);
  if (state.period === "custom" && state.from && state.to) parts.push(`from=${state.from}`, `to=${state.to}`);
  if (state.compare) parts.push("compare=previous_period");
  if (state.interval) parts.push(`interval=${state.interval}`);
  if (state.attribution !== DEFAULT_STATE.attribution) parts.push(`attribution=${state.attribution}`);
  for (const filter of state.filters) parts.push(`f=${encode(serializeFilter(filter))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

/**
 * Clicking a row: filter `is` on its value. A filter already on that dimension is replaced,
 * so clicking "Google" then "Bing" in the same panel moves the filter rather than ANDing two
 * values no visit can have.
 */
export function addFilter(state: DashboardState, dimension: string, value: string): DashboardState {
  const others = state.filters.filter(([, d]) => d !== dimension);
  return { ...state, filters: [...others, ["is", dimension, [value]]] };
}

export function removeFilter(state: DashboardState, index: number): DashboardState {
  return { ...state, filters: state.filters.filter((_, i) => i !== index) };
}

/** The time bucket a period is best drawn with, unless the URL says otherwise. */
export function defaultInterval(state: DashboardState): Interval {
  switch (state.period) {
    case "realtime": return "minute";
    case "day": return "hour";
    case "6mo": case "12mo": case "all": return "month";
    case "custom": {
      if (!state.from || !state.to) return "day";
      const days = (Date.parse(state.to) - Date.parse(state.from)) / 86_400_000;
      return days < 1 ? "hour" : days > 120 ? "month" : "day";
    }
    default: return "day";
  }
}

/** The intervals offered for a period (the minute buckets of a year are not). */
export function intervalsFor(state: DashboardState): Interval[] {
  switch (state.period) {
    case "realtime": return ["minute"];
    case "day": return ["hour"];
    case "7d": return ["hour", "day"];
    case "30d": case "month": return ["day", "week"];
    default: return ["day", "week", "month"];
  }
}

export const PERIOD_LABELS: Record<Period, string> = {
  realtime: "Realtime", day: "Today", "7d": "Last 7 days", "30d": "Last 30 days", month: "This month",
  "6mo": "Last 6 months", "12mo": "Last 12 months", all: "All time", custom: "Custom range",
};
