/**
 * Annotations on the main chart: which bucket each falls in (the stats engine's bucket labels, in the
 * site's time zone), grouped per bucket, titled ("3 commits", "4 annotations"), and which kinds are shown.
 */
import type { Annotation } from "../../lib/api";

export const KINDS = ["note", "github", "x"] as const;
export type Kind = (typeof KINDS)[number];

/** The toggles above the chart, in that order. */
export const KIND_LABELS: Record<Kind, string> = { note: "Notes", github: "Commits", x: "Posts" };
const NOUNS: Record<Kind, [string, string]> = { note: ["note", "notes"], github: ["commit", "commits"], x: ["post", "posts"] };

export interface AnnotationGroup {
  /** The chart bucket's label, as the stats answer names it ("2026-03-10", "2026-03-10 09:00:00"). */
  bucket: string;
  /** Oldest first. */
  annotations: Annotation[];
}

/** The local wall-clock parts of an instant in `timeZone`. */
function wallClock(iso: string, timeZone: string) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return { year: part("year"), month: part("month"), day: part("day"), hour: part("hour"), minute: part("minute") };
}

/**
 * The label of the `interval` bucket an instant falls in, as the engine writes it: days, weeks (from Monday)
 * and months as "YYYY-MM-DD" of their first day, hours as "YYYY-MM-DD HH:00:00", minutes "YYYY-MM-DD HH:MM:00".
 */
export function bucketOf(iso: string, interval: string, timeZone: string): string {
  const { year, month, day, hour, minute } = wallClock(iso, timeZone);
  const date = `${year}-${month}-${day}`;
  if (interval === "minute") return `${date} ${hour}:${minute}:00`;
  if (interval === "hour") return `${date} ${hour}:00:00`;
  if (interval === "month") return `${year}-${month}-01`;
  if (interval === "week") {
    const utc = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
    utc.setUTCDate(utc.getUTCDate() - ((utc.getUTCDay() + 6) % 7));
    return utc.toISOString().slice(0, 10);
  }
  return date;
}

/** The shown annotations grouped by the chart's buckets (in the chart's order); those outside it are left out. */
export function groupByBucket(annotations: Annotation[], buckets: string[], interval: string, timeZone: string,
  shown: ReadonlySet<Kind>): AnnotationGroup[] {
  const byBucket = new Map<string, Annotation[]>(buckets.map((bucket) => [bucket, []]));
  const oldestFirst = [...annotations].sort((a, b) => a.time.localeCompare(b.time) || a.id - b.id);
  for (const annotation of oldestFirst) {
    if (!shown.has(annotation.kind)) continue;
    byBucket.get(bucketOf(annotation.time, interval, timeZone))?.push(annotation);
  }
  return [...byBucket].filter(([, found]) => found.length).map(([bucket, found]) => ({ bucket, annotations: found }));
}

/** "Fix the signup form" for one, "3 commits", "2 posts", "4 annotations" when the kinds are mixed. */
export function groupTitle(annotations: Annotation[]): string {
  if (annotations.length === 1) return firstLine(annotations[0].text);
  const kinds = new Set(annotations.map((a) => a.kind));
  if (kinds.size > 1) return `${annotations.length} annotations`;
  return `${annotations.length} ${NOUNS[annotations[0].kind][1]}`;
}

/** What a marker shows: the count, or a letter for the one annotation's kind. */
export function markerText(annotations: Annotation[]): string {
  if (annotations.length > 1) return String(annotations.length);
  return { note: "N", github: "C", x: "X" }[annotations[0].kind];
}

export function kindNoun(kind: Kind): string {
  return NOUNS[kind][0];
}

export function firstLine(text: string): string {
  return text.split("\n", 1)[0];
}

const STORAGE_KEY = "postmetric.annotationKinds";

/** The kinds shown, as last chosen on this browser (all of them at first, or for anything unreadable). */
export function loadShownKinds(storage: Pick<Storage, "getItem"> | undefined = globalThis.localStorage): Set<Kind> {
  try {
    const saved = JSON.parse(storage?.getItem(STORAGE_KEY) ?? "null");
    if (Array.isArray(saved)) return new Set(KINDS.filter((kind) => saved.includes(kind)));
  } catch { /* unreadable: the default */ }
  return new Set(KINDS);
}

export function saveShownKinds(kinds: ReadonlySet<Kind>,
  storage: Pick<Storage, "setItem"> | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(KINDS.filter((kind) => kinds.has(kind))));
  } catch { /* private mode or full: the toggle still works for this page */ }
}
