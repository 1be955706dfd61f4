/** An annotation's impact as its card reads it, and the site-time conversions of the note form. */
import type { AroundImpact, PostImpact } from "../../lib/api";
import { formatChange, formatMoney, formatPercent } from "../../lib/format";

/** A count in full (the card has room, and 1,150 says more than "1.1k" next to 1,000). */
const count = (value: number) => value.toLocaleString("en");

export interface ImpactRow { label: string; before: string; after: string; change: string }

/** Percent change from `before` to `after` ("" from zero, which has no ratio). */
function percentChange(before: number, after: number): string {
  if (before === 0) return "";
  return formatChange(((after - before) * 100) / before);
}

/** "Visitors 1,204 → 1,391 +15.5%", and so on for conversion rate (in points) and revenue. */
export function aroundRows(impact: AroundImpact): ImpactRow[] {
  const { before, after, currency } = impact;
  const rate = (value: number | null) => formatPercent(value);
  const points = before.conversion_rate === null || after.conversion_rate === null
    ? "" : formatChange(after.conversion_rate - before.conversion_rate, "pp");
  return [
    { label: "Visitors", before: count(before.visitors), after: count(after.visitors),
      change: percentChange(before.visitors, after.visitors) },
    { label: "Conversion rate", before: rate(before.conversion_rate), after: rate(after.conversion_rate), change: points },
    { label: "Revenue", before: formatMoney(before.revenue, currency), after: formatMoney(after.revenue, currency),
      change: percentChange(before.revenue, after.revenue) },
  ];
}

/** "From X in the 24 h after: 312 visitors, $147.00" ("so far" while the 24 hours run). */
export function postSummary(impact: PostImpact): string {
  const visitors = `${count(impact.visitors)} ${impact.visitors === 1 ? "visitor" : "visitors"}`;
  const when = impact.partial ? "in the 24 h after (so far)" : "in the 24 h after";
  return `From X ${when}: ${visitors}, ${formatMoney(impact.revenue, impact.currency)}`;
}

/** The wall-clock "YYYY-MM-DDTHH:MM" of an instant in `timeZone`, for a datetime-local input. */
export function toLocalInput(iso: string | Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(typeof iso === "string" ? new Date(iso) : iso);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return `${part("year")}-${part("month")}-${part("day")}T${part("hour")}:${part("minute")}`;
}

/** The UTC instant (ISO) of a wall-clock "YYYY-MM-DDTHH:MM" in `timeZone`; null for an unreadable input. */
export function fromLocalInput(local: string, timeZone: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!match) return null;
  const [, y, mo, d, h, mi] = match.map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  // The zone's offset at that moment, read back from its wall clock (twice: near a DST change the first guess
  // may sit on the other side of it).
  let guess = asUtc;
  for (let i = 0; i < 2; i++) {
    const wall = toLocalInput(new Date(guess), timeZone);
    const [, wy, wmo, wd, wh, wmi] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(wall)!.map(Number);
    guess += asUtc - Date.UTC(wy, wmo - 1, wd, wh, wmi);
  }
  return new Date(guess).toISOString().replace(".000Z", "Z");
}
