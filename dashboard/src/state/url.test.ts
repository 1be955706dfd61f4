import { describe, expect, it } from "vitest";
import {
  addFilter, DEFAULT_STATE, type DashboardState, defaultInterval, parseFilter, parseSearch, removeFilter,
  serializeFilter, stringifySearch,
} from "./url";

describe("parseSearch / stringifySearch", () => {
  it("the default state is the empty search", () => {
    expect(stringifySearch(DEFAULT_STATE)).toBe("");
    expect(parseSearch("")).toEqual(DEFAULT_STATE);
  });

  const states: DashboardState[] = [
    { ...DEFAULT_STATE, period: "7d", compare: true, interval: "hour" },
    { ...DEFAULT_STATE, attribution: "last_touch", filters: [["is", "visit:source", ["Google"]]] },
    { ...DEFAULT_STATE, period: "custom", from: "2026-03-01", to: "2026-03-10" },
    { ...DEFAULT_STATE, filters: [["is", "visit:source", ["Google"]], ["contains", "event:page", ["/blog"]]] },
    { ...DEFAULT_STATE, filters: [["is", "visit:source", [""]]] },
    { ...DEFAULT_STATE, filters: [["is_not", "visit:city", ["a|b", "c\\d", "Zürich, CH", "x&y=z#?"]]] },
  ];
  it.each(states.map((s) => [stringifySearch(s), s]))("round trips %s", (search, state) => {
    expect(parseSearch(search as string)).toEqual(state);
  });

  it("keeps filters readable in the URL", () => {
    const state = { ...DEFAULT_STATE, filters: [["is", "visit:source", ["Google"]]] as DashboardState["filters"] };
    expect(stringifySearch(state)).toBe("?f=is,visit:source,Google");
  });

  it("drops what it cannot read instead of failing", () => {
    const state = parseSearch("?period=forever&interval=second&f=nope&f=eq,visit:source,x&f=is,source,x&compare=yes&attribution=middle_touch");
    expect(state).toEqual(DEFAULT_STATE);
  });

  it("keeps the attribution only when it is not the default first touch", () => {
    expect(stringifySearch({ ...DEFAULT_STATE, attribution: "last_touch" })).toBe("?attribution=last_touch");
    expect(parseSearch("?attribution=first_touch")).toEqual(DEFAULT_STATE);
  });

  it("a custom range needs both dates, and puts them in order", () => {
    expect(parseSearch("?period=custom&from=2026-03-01").period).toBe("30d");
    expect(parseSearch("?period=custom&from=2026-03-10&to=2026-03-01")).toMatchObject({ from: "2026-03-01", to: "2026-03-10" });
  });

  it("reads filters as the API's [op, dimension, values]", () => {
    expect(parseFilter("is,visit:country,DE|FR")).toEqual(["is", "visit:country", ["DE", "FR"]]);
    expect(parseFilter(serializeFilter(["matches", "event:page", ["^/a|b$"]]))).toEqual(["matches", "event:page", ["^/a|b$"]]);
  });
});

describe("adding and removing filters", () => {
  it("a click adds an `is` filter; a second click on the same dimension replaces it", () => {
    let state = addFilter(DEFAULT_STATE, "visit:source", "Google");
    state = addFilter(state, "visit:country", "DE");
    expect(state.filters).toEqual([["is", "visit:source", ["Google"]], ["is", "visit:country", ["DE"]]]);
    state = addFilter(state, "visit:source", "Bing");
    expect(state.filters).toEqual([["is", "visit:country", ["DE"]], ["is", "visit:source", ["Bing"]]]);
  });

  it("removing a chip removes only that filter", () => {
    const state = { ...DEFAULT_STATE, filters: [["is", "visit:source", ["Google"]], ["is", "visit:country", ["DE"]]] as DashboardState["filters"] };
    expect(removeFilter(state, 0).filters).toEqual([["is", "visit:country", ["DE"]]]);
  });
});

describe("defaultInterval", () => {
  it.each([["day", "hour"], ["7d", "day"], ["30d", "day"], ["12mo", "month"], ["all", "month"], ["realtime", "minute"]])(
    "%s is drawn by %s", (period, interval) => {
      expect(defaultInterval({ ...DEFAULT_STATE, period: period as DashboardState["period"] })).toBe(interval);
    },
  );
});
