/** Visitors by country on a world map (its own chunk: the shapes are ~100 KB); a click filters. */
import { ComposableMap, Geographies, Geography } from "react-simple-maps";
import world from "world-atlas/countries-110m.json";
import { ErrorBox, Spinner } from "../components/ui";
import { useStatsQuery } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import { formatCountry, formatNumber } from "../lib/format";
import { panelQuery } from "../state/query";
import { addFilter } from "../state/url";
import { ALPHA2_TO_NUMERIC } from "./countryCodes";
import { useSiteView } from "./SiteContext";

const NUMERIC_TO_ALPHA2 = Object.fromEntries(Object.entries(ALPHA2_TO_NUMERIC).map(([a, n]) => [n, a]));

// The TopoJSON file as react-simple-maps takes it (its types only name GeoJSON and URLs).
const WORLD = world as unknown as Parameters<typeof Geographies>[0]["geography"];

export default function WorldMap() {
  const { site } = useSiteView();
  const [state, setState] = useDashboardState();
  const stats = useStatsQuery(panelQuery(site.id, state, { dimension: "visit:country", metrics: ["visitors"] }, 300));
  if (stats.error) return <ErrorBox error={stats.error} />;
  if (!stats.data) return <Spinner />;
  const visitors = new Map(stats.data.results.map((row) => [String(row.dimensions[0]), row.metrics[0] ?? 0]));
  const max = Math.max(1, ...visitors.values());
  return (
    <div data-testid="world-map" className="text-gray-200 dark:text-gray-700">
      <ComposableMap projection="geoEqualEarth" projectionConfig={{ scale: 150 }} width={800} height={400}
        className="h-auto w-full">
        <Geographies geography={WORLD}>
          {({ geographies }) => geographies.map((geo) => {
            const code: string | undefined = NUMERIC_TO_ALPHA2[String(geo.id)];
            const count = (code && visitors.get(code)) || 0;
            const fill = count ? `rgba(99, 102, 241, ${0.25 + 0.75 * (count / max)})` : "currentColor";
            return (
              <Geography key={geo.rsmKey} geography={geo} fill={fill} stroke="rgba(128,128,128,0.4)" strokeWidth={0.4}
                className={count ? "cursor-pointer outline-none hover:opacity-80" : "outline-none"}
                onClick={() => { if (count && code) setState(addFilter(state, "visit:country", code)); }}>
                <title>{`${code ? formatCountry(code) : geo.properties?.name}: ${formatNumber(count)} visitors`}</title>
              </Geography>
            );
          })}
        </Geographies>
      </ComposableMap>
    </div>
  );
}
