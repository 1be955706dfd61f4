import { describe, expect, it } from "vitest";
import type { FunnelStepResult } from "../lib/api";
import { draftBody, draftErrors, funnelBars, moveStep, newDraft, stepTitle } from "./funnel";

/** The step at `position` (from 0); the API numbers steps from 1. */
function result(position: number, visitors: number, extra: Partial<FunnelStepResult> = {}): FunnelStepResult {
  return {
    index: position + 1, type: "page", match: `/step${position}`, label: null, visitors,
    conversion_from_previous: null, conversion_from_first: null, drop_off: null, median_seconds_to_next: null, ...extra,
  };
}

describe("a funnel step", () => {
  it("reads as its label, else as what it matches", () => {
    expect(stepTitle({ type: "page", match: "/pricing", label: "Pricing" })).toBe("Pricing");
    expect(stepTitle({ type: "page", match: "/blog/*", label: null })).toBe("Visit /blog/*");
    expect(stepTitle({ type: "goal", match: "signup", label: "" })).toBe("Goal signup");
  });

  it("shows visitors, conversions as percentages, drop-off from the previous step and the median time to the next step like a visit duration", () => {
    const bars = funnelBars([
      result(0, 1200, { label: "Pricing", conversion_from_first: 100, conversion_from_previous: 100, drop_off: 0, median_seconds_to_next: 83 }),
      result(1, 300, { type: "goal", match: "signup", conversion_from_first: 25, conversion_from_previous: 25, drop_off: 900, median_seconds_to_next: 7260 }),
      result(2, 150, { conversion_from_first: 12.5, conversion_from_previous: 50, drop_off: 150, median_seconds_to_next: null }),
    ]);
    expect(bars.map((b) => [b.title, b.detail, b.visitors, b.width, b.fromFirst, b.fromPrevious, b.dropOff, b.toNext])).toEqual([
      ["Pricing", "Page /step0", "1.2k", 100, "100%", "", "", "1m 23s"],
      ["Goal signup", null, "300", 25, "25%", "25%", "900", "2h 1m"],
      ["Visit /step2", null, "150", 12.5, "12.5%", "50%", "150", ""],
    ]);
  });

  it("draws no bar when nobody reached the first step, and a dash for a time nobody took", () => {
    const bars = funnelBars([result(0, 0, { conversion_from_first: 0, drop_off: 0 }), result(1, 0)]);
    expect(bars.map((b) => [b.width, b.toNext])).toEqual([[0, "–"], [0, ""]]);
  });
});

describe("the funnel builder's draft", () => {
  it("starts with two empty page steps and is refused until named and every step matches something", () => {
    const draft = newDraft();
    expect(draft.steps).toHaveLength(2);
    expect(draftErrors(draft)).toEqual([
      "name: give the funnel a name",
      "steps[1]: a path pattern such as /pricing or /blog/* is needed",
      "steps[2]: a path pattern such as /pricing or /blog/* is needed",
    ]);
  });

  it("wants 2 to 8 steps and page patterns that start with /", () => {
    const step = { type: "page" as const, match: "/a", label: "" };
    expect(draftErrors({ name: "x", steps: [step] })).toEqual(["steps: a funnel has 2 to 8 steps"]);
    expect(draftErrors({ name: "x", steps: Array(9).fill(step) })).toEqual(["steps: a funnel has 2 to 8 steps"]);
    expect(draftErrors({ name: "x", steps: Array(8).fill(step) })).toEqual([]);
    expect(draftErrors({ name: "x", steps: [step, { type: "page", match: "pricing", label: "" }] }))
      .toEqual(["steps[2]: a path pattern starts with /"]);
    expect(draftErrors({ name: "x", steps: [step, { type: "goal", match: "signup", label: "" }] })).toEqual([]);
  });

  it("is sent trimmed, an empty label as null", () => {
    expect(draftBody({ name: " Sign-up ", steps: [
      { type: "page", match: " /pricing ", label: " Pricing " }, { type: "goal", match: "signup", label: "  " },
    ] })).toEqual({ name: "Sign-up", steps: [
      { type: "page", match: "/pricing", label: "Pricing" }, { type: "goal", match: "signup", label: null },
    ] });
  });

  it("moves a step up or down, never past either end", () => {
    expect(moveStep(["a", "b", "c"], 2, -1)).toEqual(["a", "c", "b"]);
    expect(moveStep(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    expect(moveStep(["a", "b", "c"], 0, -1)).toEqual(["a", "b", "c"]);
    expect(moveStep(["a", "b", "c"], 2, 1)).toEqual(["a", "b", "c"]);
  });
});
