/**
 * The stats engine's metrics and dimensions, as it defines them (src/postmetric/stats/definitions.py):
 * labels, kinds, formats. `../generated/definitions.json` is printed by
 * `python -m postmetric.stats.definitions` (`make` runs it before building the dashboard;
 * tests/stats/test_definitions.py fails when the committed copy is stale), never edited by hand.
 */
import generated from "../generated/definitions.json";

export type MetricKind = "event" | "visit" | "revenue" | "engagement" | "search";
export type MetricFormat = "count" | "percent" | "seconds" | "money" | "decimal";

export interface MetricDefinition {
  name: string;
  label: string;
  kind: MetricKind;
  format: MetricFormat;
  /** How a comparison tells its change: in percent, or in points for a rate. */
  change: "percent" | "points";
  lower_is_better: boolean;
  needs: string[];
}

export interface DimensionDefinition {
  name: string;
  label: string;
  kind: "time" | "event" | "visit" | "search";
  filterable: boolean;
}

export const METRIC_DEFINITIONS = generated.metrics as MetricDefinition[];
export const DIMENSION_DEFINITIONS = generated.dimensions as DimensionDefinition[];

const metricsByName = new Map(METRIC_DEFINITIONS.map((metric) => [metric.name, metric]));
const dimensionsByName = new Map(DIMENSION_DEFINITIONS.map((dimension) => [dimension.name, dimension]));

export function metricDefinition(name: string): MetricDefinition | undefined {
  return metricsByName.get(name);
}

export function dimensionDefinition(name: string): DimensionDefinition | undefined {
  return dimensionsByName.get(name);
}

/** The names of the metrics of one kind, in the engine's order. */
export function metricsOfKind(kind: MetricKind): string[] {
  return METRIC_DEFINITIONS.filter((metric) => metric.kind === kind).map((metric) => metric.name);
}
