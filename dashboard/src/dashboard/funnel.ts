/**
 * Funnels without React: how a step reads in the chart (its title and its numbers), and the
 * builder's draft (2–8 steps, each a page pattern or a goal), checked before it is sent.
 */
import type { FunnelStep, FunnelStepResult } from "../lib/api";
import { formatDuration, formatNumber, formatPercent } from "../lib/format";

export const MIN_STEPS = 2;
export const MAX_STEPS = 8;

/** A step's name: its label, else what it matches ("Visit /pricing", "Goal signup"). */
export function stepTitle(step: FunnelStep): string {
  if (step.label) return step.label;
  return step.type === "page" ? `Visit ${step.match}` : `Goal ${step.match}`;
}

/** One bar of the funnel chart, every number already formatted. */
export interface FunnelBar {
  /** The step's place in the funnel, from 1. */
  number: number;
  title: string;
  /** What the step matches, when the title is a label (so it is shown once either way). */
  detail: string | null;
  visitors: string;
  /** The bar's length: the step's visitors as a share of the first step's (0–100). */
  width: number;
  fromFirst: string;
  /** Empty for the first step: there is no previous one. */
  fromPrevious: string;
  /** Visitors of the previous step who did not reach this one; empty for the first step. */
  dropOff: string;
  /** Median time to the next step, like visit durations; empty for the last step. */
  toNext: string;
}

export function funnelBars(steps: FunnelStepResult[]): FunnelBar[] {
  const first = steps[0]?.visitors ?? 0;
  return steps.map((step, i) => {
    const last = i === steps.length - 1;
    return {
      number: i + 1,
      title: stepTitle(step),
      detail: step.label ? `${step.type === "page" ? "Page" : "Goal"} ${step.match}` : null,
      visitors: formatNumber(step.visitors),
      width: first > 0 ? Math.min(100, (step.visitors / first) * 100) : 0,
      fromFirst: formatPercent(step.conversion_from_first),
      fromPrevious: i === 0 ? "" : formatPercent(step.conversion_from_previous),
      dropOff: i === 0 ? "" : formatNumber(step.drop_off),
      toNext: last ? "" : formatDuration(step.median_seconds_to_next),
    };
  });
}

// -- the builder -------------------------------------------------------------------------

/** A step as typed in the builder: the label is text, empty for none. */
export interface DraftStep { type: "page" | "goal"; match: string; label: string }
export interface FunnelDraft { name: string; steps: DraftStep[] }

export const EMPTY_STEP: DraftStep = { type: "page", match: "", label: "" };

export function newDraft(): FunnelDraft {
  return { name: "", steps: [{ ...EMPTY_STEP }, { ...EMPTY_STEP }] };
}

export function draftOf(funnel: { name: string; steps: FunnelStep[] }): FunnelDraft {
  return { name: funnel.name, steps: funnel.steps.map((s) => ({ type: s.type, match: s.match, label: s.label ?? "" })) };
}

/** What is wrong with a draft, in the API's `field: problem` words; empty when it can be saved. */
export function draftErrors(draft: FunnelDraft): string[] {
  const errors: string[] = [];
  if (!draft.name.trim()) errors.push("name: give the funnel a name");
  if (draft.steps.length < MIN_STEPS || draft.steps.length > MAX_STEPS) {
    errors.push(`steps: a funnel has ${MIN_STEPS} to ${MAX_STEPS} steps`);
  }
  draft.steps.forEach((step, i) => {
    const match = step.match.trim();
    if (!match) errors.push(`steps[${i + 1}]: ${step.type === "page" ? "a path pattern such as /pricing or /blog/*" : "a goal name"} is needed`);
    else if (step.type === "page" && !match.startsWith("/")) errors.push(`steps[${i + 1}]: a path pattern starts with /`);
  });
  return errors;
}

/** The body of `POST`/`PUT /api/v1/sites/{id}/funnels`: trimmed, an empty label null. */
export function draftBody(draft: FunnelDraft): { name: string; steps: FunnelStep[] } {
  return {
    name: draft.name.trim(),
    steps: draft.steps.map((s) => ({ type: s.type, match: s.match.trim(), label: s.label.trim() || null })),
  };
}

/** The steps with step `index` moved by `delta` (−1 up, +1 down); unchanged at either end. */
export function moveStep<T>(steps: T[], index: number, delta: -1 | 1): T[] {
  const target = index + delta;
  if (target < 0 || target >= steps.length) return steps;
  const moved = [...steps];
  [moved[index], moved[target]] = [moved[target], moved[index]];
  return moved;
}
