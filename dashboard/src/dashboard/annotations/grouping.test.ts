import { describe, expect, it } from "vitest";
import type { Annotation } from "../../lib/api";
import { bucketOf, groupByBucket, groupTitle, KINDS, type Kind, loadShownKinds, markerText, saveShownKinds } from "./grouping";
import { cardPosition } from "./ChartAnnotations";
import { aroundRows, fromLocalInput, postSummary, toLocalInput } from "./impact";

let nextId = 1;
function annotation(kind: Kind, time: string, text = `${kind} ${nextId}`): Annotation {
  return { id: nextId++, kind, time, text, url: null, external_id: null, author: null, details: null, created_at: time,
    updated_at: time };
}

const ALL = new Set(KINDS);

describe("bucketOf", () => {
  it("names the engine's bucket in the site's time zone", () => {
    // 23:30 UTC on 9 Mar is 00:30 on 10 Mar in Berlin (UTC+1).
    expect(bucketOf("2026-03-09T23:30:00Z", "day", "Europe/Berlin")).toBe("2026-03-10");
    expect(bucketOf("2026-03-09T23:30:00Z", "day", "UTC")).toBe("2026-03-09");
    expect(bucketOf("2026-03-09T23:30:00Z", "hour", "Europe/Berlin")).toBe("2026-03-10 00:00:00");
    expect(bucketOf("2026-03-09T23:31:45Z", "minute", "UTC")).toBe("2026-03-09 23:31:00");
    expect(bucketOf("2026-03-31T23:30:00Z", "month", "Europe/Berlin")).toBe("2026-04-01");
    expect(bucketOf("2026-03-31T23:30:00Z", "month", "UTC")).toBe("2026-03-01");
    expect(bucketOf("2026-03-31T23:30:00Z", "hour", "Asia/Kolkata")).toBe("2026-04-01 05:00:00");
  });

  it("starts weeks on Monday", () => {
    expect(bucketOf("2026-03-08T12:00:00Z", "week", "UTC")).toBe("2026-03-02"); // a Sunday
    expect(bucketOf("2026-03-09T12:00:00Z", "week", "UTC")).toBe("2026-03-09"); // a Monday
    expect(bucketOf("2026-03-01T12:00:00Z", "week", "UTC")).toBe("2026-02-23"); // across a month
  });
});

describe("groupByBucket", () => {
  const buckets = ["2026-03-09", "2026-03-10", "2026-03-11"];

  it("groups per bucket in the chart's order, oldest first, and leaves out the range's outside", () => {
    const late = annotation("github", "2026-03-10T18:00:00Z");
    const early = annotation("github", "2026-03-10T08:00:00Z");
    const post = annotation("x", "2026-03-09T10:00:00Z");
    const outside = annotation("note", "2026-03-12T10:00:00Z");
    const groups = groupByBucket([late, outside, post, early], buckets, "day", "UTC", ALL);
    expect(groups).toEqual([
      { bucket: "2026-03-09", annotations: [post] },
      { bucket: "2026-03-10", annotations: [early, late] },
    ]);
  });

  it("shows only the kinds toggled on", () => {
    const commit = annotation("github", "2026-03-10T08:00:00Z");
    const note = annotation("note", "2026-03-10T09:00:00Z");
    expect(groupByBucket([commit, note], buckets, "day", "UTC", new Set<Kind>(["note"])))
      .toEqual([{ bucket: "2026-03-10", annotations: [note] }]);
    expect(groupByBucket([commit, note], buckets, "day", "UTC", new Set<Kind>())).toEqual([]);
  });
});

describe("groupTitle and markerText", () => {
  it("counts one kind by its name and mixed kinds as annotations", () => {
    const commits = [1, 2, 3].map(() => annotation("github", "2026-03-10T08:00:00Z"));
    expect(groupTitle(commits)).toBe("3 commits");
    expect(markerText(commits)).toBe("3");
    expect(groupTitle([annotation("x", "2026-03-10T08:00:00Z"), annotation("x", "2026-03-10T09:00:00Z")])).toBe("2 posts");
    expect(groupTitle([...commits, annotation("note", "2026-03-10T08:00:00Z")])).toBe("4 annotations");
  });

  it("names a single annotation by its first line", () => {
    const one = annotation("github", "2026-03-10T08:00:00Z", "Fix the signup form\n\nSafari sent an empty body.");
    expect(groupTitle([one])).toBe("Fix the signup form");
    expect(markerText([one])).toBe("C");
  });
});

describe("the kinds shown", () => {
  it("are all kinds at first, then what was saved", () => {
    const saved = new Map<string, string>();
    const storage = { getItem: (key: string) => saved.get(key) ?? null, setItem: (key: string, value: string) => { saved.set(key, value); } };
    expect(loadShownKinds(storage)).toEqual(new Set(KINDS));
    saveShownKinds(new Set<Kind>(["x"]), storage);
    expect(loadShownKinds(storage)).toEqual(new Set(["x"]));
    saved.set("postmetric.annotationKinds", "{not json");
    expect(loadShownKinds(storage)).toEqual(new Set(KINDS));
  });
});

describe("the impact's words", () => {
  it("read before → after with the change, in points for the rate", () => {
    const rows = aroundRows({
      annotation_id: 1, window: "7d", currency: "USD", partial: false,
      before: { start: "", end: "", visitors: 1000, conversion_rate: 2.1, revenue: 1480 },
      after: { start: "", end: "", visitors: 1150, conversion_rate: 2.6, revenue: 0 },
    });
    expect(rows).toEqual([
      { label: "Visitors", before: "1,000", after: "1,150", change: "+15%" },
      { label: "Conversion rate", before: "2.1%", after: "2.6%", change: "+0.5 pp" },
      { label: "Revenue", before: "$1,480.00", after: "$0.00", change: "−100%" },
    ]);
  });

  it("say what came from X after a post", () => {
    const impact = { annotation_id: 1, window: "24h" as const, start: "", end: "", visitors: 312, revenue: 147,
      currency: "USD", partial: false };
    expect(postSummary(impact)).toBe("From X in the 24 h after: 312 visitors, $147.00");
    expect(postSummary({ ...impact, visitors: 1, partial: true })).toBe("From X in the 24 h after (so far): 1 visitor, $147.00");
  });
});

describe("the note form's times", () => {
  it("turn the site's wall clock into UTC and back, across DST", () => {
    expect(fromLocalInput("2026-03-10T09:30", "Europe/Berlin")).toBe("2026-03-10T08:30:00Z");
    expect(fromLocalInput("2026-07-10T09:30", "Europe/Berlin")).toBe("2026-07-10T07:30:00Z");
    expect(fromLocalInput("2026-03-10T09:30", "America/New_York")).toBe("2026-03-10T13:30:00Z");
    expect(toLocalInput("2026-03-10T08:30:00Z", "Europe/Berlin")).toBe("2026-03-10T09:30");
    expect(fromLocalInput("", "UTC")).toBeNull();
  });
});

describe("the card's place", () => {
  it("is right of its marker, else left of it, else the chart's whole width on a phone", () => {
    expect(cardPosition(100, 1000)).toEqual({ left: 112, width: 320 });
    expect(cardPosition(900, 1000)).toEqual({ left: 568, width: 320 });
    expect(cardPosition(250, 296)).toEqual({ left: 0, width: 296 });
  });
});
