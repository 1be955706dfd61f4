/** The annotations' part of the main chart: the kind toggles above it, and a marker per bucket on it. */
import { type CSSProperties, useState } from "react";
import { cx } from "../../components/ui";
import type { Annotation } from "../../lib/api";
import { groupTitle, KIND_LABELS, KINDS, type Kind, loadShownKinds, markerText, saveShownKinds } from "./grouping";

/** The kinds shown on the chart, remembered on this browser. */
export function useShownKinds(): [Set<Kind>, (kind: Kind) => void] {
  const [shown, setShown] = useState(() => loadShownKinds());
  const toggle = (kind: Kind) => {
    const next = new Set(shown);
    if (next.has(kind)) next.delete(kind);
    else next.add(kind);
    saveShownKinds(next);
    setShown(next);
  };
  return [shown, toggle];
}

const KIND_COLOURS: Record<Kind, string> = { note: "#f59e0b", github: "#6b7280", x: "#0ea5e9" };
const MIXED_COLOUR = "#6366f1";

export function markerColour(annotations: Annotation[]): string {
  const kinds = new Set(annotations.map((a) => a.kind));
  return kinds.size === 1 ? KIND_COLOURS[annotations[0].kind] : MIXED_COLOUR;
}

/** One toggle per kind, with how many of each the range has. */
export function KindToggles({ shown, onToggle, counts }: {
  shown: ReadonlySet<Kind>; onToggle: (kind: Kind) => void; counts: Record<Kind, number>;
}) {
  return (
    <div className="flex flex-wrap gap-1.5" role="group" aria-label="Annotations on the chart">
      {KINDS.map((kind) => (
        <button key={kind} type="button" aria-pressed={shown.has(kind)} onClick={() => onToggle(kind)}
          className={cx("flex items-center gap-1 rounded-full border px-2 py-0.5 text-xs",
            shown.has(kind)
              ? "border-gray-300 bg-gray-50 text-gray-800 dark:border-gray-600 dark:bg-gray-800 dark:text-gray-100"
              : "border-gray-200 text-gray-400 line-through dark:border-gray-800")}>
          <span aria-hidden className="inline-block h-2 w-2 rounded-full" style={{ background: KIND_COLOURS[kind] }} />
          {KIND_LABELS[kind]}
          <span className="tabular-nums text-gray-500">{counts[kind]}</span>
        </button>
      ))}
    </div>
  );
}

export interface MarkerOpen { bucket: string; x: number }

/** A ReferenceLine's label: a round marker at the top of the plot, the count of a group or its kind's letter.
 * Recharts passes `viewBox` (the line's position); hovering, focusing or clicking it opens the card. */
export function MarkerLabel({ viewBox, bucket, annotations, onOpen }: {
  viewBox?: { x: number; y: number }; bucket: string; annotations: Annotation[]; onOpen: (open: MarkerOpen) => void;
}) {
  if (!viewBox) return null;
  const { x, y } = viewBox;
  const open = () => onOpen({ bucket, x });
  return (
    <g transform={`translate(${x},${y + 9})`} tabIndex={0} role="button" aria-label={groupTitle(annotations)}
      data-testid="annotation-marker" data-bucket={bucket} style={{ cursor: "pointer", outline: "none" }}
      onMouseEnter={open} onFocus={open} onClick={open}
      onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") open(); }}>
      <circle r={8} fill={markerColour(annotations)} stroke="white" strokeWidth={1.5} />
      <text textAnchor="middle" dy="0.35em" fontSize={9} fontWeight={700} fill="white">{markerText(annotations)}</text>
    </g>
  );
}

const CARD_WIDTH = 320;

/** The card beside its marker at `x` on a chart `width` wide: to its right if it fits there, else to its left,
 * else (a phone) as wide as the chart. */
export function cardPosition(x: number, width: number): CSSProperties {
  const gap = 12;
  if (x + gap + CARD_WIDTH <= width) return { left: x + gap, width: CARD_WIDTH };
  if (x - gap - CARD_WIDTH >= 0) return { left: x - gap - CARD_WIDTH, width: CARD_WIDTH };
  return { left: 0, width: Math.min(CARD_WIDTH, width) };
}
