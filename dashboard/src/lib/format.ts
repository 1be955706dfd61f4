/**
 * Every number, duration, percentage and date the dashboard shows goes through here.
 * Dates are shown in the site's timezone, never the browser's.
 */
import { metricDefinition } from "./definitions";

/** 950 → "950", 1234 → "1.2k", 1_500_000 → "1.5M". */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const abs = Math.abs(value);
  const units: [number, string][] = [[1e9, "B"], [1e6, "M"], [1e3, "k"]];
  for (const [index, [size, suffix]] of units.entries()) {
    if (abs >= size) {
      const scaled = value / size;
      const text = Math.abs(scaled) >= 100 ? scaled.toFixed(0) : scaled.toFixed(1).replace(/\.0$/, "");
      if (Math.abs(Number(text)) >= 1000 && index > 0) return `${Math.sign(value)}${units[index - 1][1]}`;
      return `${text}${suffix}`;
    }
  }
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, "");
}

/** Seconds → "0s", "45s", "1m 23s", "2h 5m". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** 42 → "42%", 12.5 → "12.5%". */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return `${Number.isInteger(value) ? value : value.toFixed(1).replace(/\.0$/, "")}%`;
}

/** A change from the comparison: "+12%", "−3.5%", "+2 pp", "−0.4" (unit ""), or "" when there is none
 * (growth from zero). */
export function formatChange(change: number | null | undefined, unit: "%" | "pp" | "" = "%"): string {
  if (change === null || change === undefined || Number.isNaN(change)) return "";
  const sign = change > 0 ? "+" : change < 0 ? "−" : "";
  const text = Math.abs(change).toFixed(1).replace(/\.0$/, "");
  return `${sign}${text}${unit === "pp" ? " pp" : unit}`;
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

function moneyFormat(currency: string, compact: boolean): Intl.NumberFormat {
  const key = `${currency}:${compact}`;
  let format = moneyFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat("en", compact
      ? { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 }
      : { style: "currency", currency });
    moneyFormats.set(key, format);
  }
  return format;
}

/**
 * 1234.5 USD → "$1,234.50", 0.37 EUR → "€0.37", 1500 JPY → "¥1,500"; from 100,000 on
 * compact ("$123.5K") so a card or a column keeps its width. A code Intl does not know
 * reads "1234.50 XYZ" rather than failing the whole card.
 */
export function formatMoney(value: number | null | undefined, currency: string | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const code = (currency || "USD").toUpperCase();
  try {
    return moneyFormat(code, Math.abs(value) >= 100_000).format(value);
  } catch {
    return `${value.toFixed(2)} ${code}`;
  }
}

/** A metric's value as its definition's format reads; money (major units of the response's
 * `meta.currency`, the site's currency) needs that currency. */
export function formatMetric(metric: string, value: number | null | undefined, currency?: string | null): string {
  switch (metricDefinition(metric)?.format) {
    case "money":
      return formatMoney(value, currency);
    case "percent":
      return formatPercent(value);
    case "seconds":
      return formatDuration(value);
    case "decimal":
      return value === null || value === undefined ? "–" : value.toFixed(2).replace(/\.?0+$/, "");
    default:
      return formatNumber(value);
  }
}

/** How a comparison's change reads: in points for a rate, else in percent. */
export function changeUnit(metric: string): "%" | "pp" {
  return metricDefinition(metric)?.change === "points" ? "pp" : "%";
}

/**
 * A time bucket label from the API ("2026-03-10", "2026-03-10 14:00:00", "2026-03")
 * for the chart's axis. Labels are already wall-clock times in the site's timezone, so they
 * are read as such, not converted.
 */
export function formatBucket(label: string, interval: string): string {
  const [datePart, timePart = ""] = label.split(/[ T]/);
  const [y, mo, d = "1"] = datePart.split("-");
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  const month = date.toLocaleString("en", { month: "short", timeZone: "UTC" });
  if (interval === "month") return `${month} ${y}`;
  if (interval === "hour" || interval === "minute") return timePart.slice(0, 5);
  return `${Number(d)} ${month}`;
}

/** An instant shown in the site's timezone: "10 Mar 2026, 14:05". */
export function formatDateTime(iso: string | Date, timeZone: string): string {
  const date = typeof iso === "string" ? new Date(iso) : iso;
  return date.toLocaleString("en-GB", {
    timeZone, day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

/** The time of day of an instant in the site's timezone, to the second: "14:05:09". */
export function formatTime(iso: string, timeZone: string): string {
  return new Date(iso).toLocaleTimeString("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** Today's date (YYYY-MM-DD) in the site's timezone. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  return now.toLocaleDateString("en-CA", { timeZone });
}

/** ISO country code → "🇩🇪 Germany" (names from the browser; unknown codes as they are). */
export function formatCountry(code: string): string {
  if (!code) return "Unknown";
  if (!/^[A-Z]{2}$/.test(code)) return code;
  const flag = String.fromCodePoint(...[...code].map((c) => 0x1f1a5 + c.charCodeAt(0)));
  let name = code;
  try {
    name = new Intl.DisplayNames(["en"], { type: "region" }).of(code) ?? code;
  } catch {
    /* an engine without DisplayNames shows the code */
  }
  return `${flag} ${name}`;
}
