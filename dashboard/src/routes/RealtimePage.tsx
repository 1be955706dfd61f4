/** The live view: the realtime stream (SSE) of visitors, the latest of them (links to their
 * journeys), pages, sources and countries. */
import { Link, useParams } from "react-router";
import { Card, ErrorBox, Spinner } from "../components/ui";
import { useRealtimeStream } from "../hooks/useRealtimeStream";
import type { Realtime } from "../lib/api";
import { formatCountry, formatDateTime, formatNumber, formatTime } from "../lib/format";
import { useSiteQuery } from "../hooks/queries";

function List({ title, rows }: { title: string; rows: { label: string; visitors: number }[] }) {
  return (
    <Card>
      <h2 className="mb-2 font-semibold">{title}</h2>
      {rows.length === 0 ? <p className="text-sm text-gray-500">Nobody right now.</p> : (
        <ul className="space-y-1 text-sm">
          {rows.map((row) => (
            <li key={row.label} className="flex justify-between gap-2"><span className="truncate">{row.label}</span><span className="tabular-nums">{formatNumber(row.visitors)}</span></li>
          ))}
        </ul>
      )}
    </Card>
  );
}

/** The latest visitors of the window, newest first, each a link to their journey. */
function RecentVisitors({ siteId, visitors, timezone }: { siteId: string; visitors: NonNullable<Realtime["recent_visitors"]>; timezone: string }) {
  return (
    <Card>
      <h2 className="mb-2 font-semibold">Recent visitors</h2>
      {visitors.length === 0 ? <p className="text-sm text-gray-500">Nobody right now.</p> : (
        <ul className="divide-y divide-gray-100 text-sm dark:divide-gray-800" data-testid="recent-visitors">
          {visitors.map((v) => (
            <li key={v.visitor_id}>
              <Link to={`/sites/${siteId}/visitors/${v.visitor_id}`} title={`The journey of visitor ${v.visitor_id}`}
                className="flex flex-wrap items-baseline justify-between gap-x-3 py-1.5 hover:bg-gray-50 dark:hover:bg-gray-800">
                <span className="min-w-0 truncate">
                  <code className="text-[0.9em] text-indigo-600 dark:text-indigo-400">{v.page || "/"}</code>
                  <span className="text-gray-500 dark:text-gray-400"> · {v.source || "Direct / None"} · {formatCountry(v.country)}</span>
                </span>
                <span className="text-xs tabular-nums text-gray-500 dark:text-gray-400">{formatTime(v.last_seen, timezone)}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export default function RealtimePage() {
  const { siteId = "" } = useParams();
  const site = useSiteQuery(siteId);
  const { data, error } = useRealtimeStream(siteId);
  return (
    <div className="space-y-4">
      <div className="flex items-center justify-between">
        <h1 className="text-xl font-semibold">Realtime · {site.data?.domain ?? siteId}</h1>
        <Link className="text-sm text-indigo-600 dark:text-indigo-400" to={`/sites/${siteId}`}>Back to the dashboard</Link>
      </div>
      <ErrorBox error={site.error} />
      <ErrorBox error={error} />
      {!data ? <Spinner label="Connecting to the live stream…" /> : (
        <>
          <Card>
            <p className="text-4xl font-semibold tabular-nums" data-testid="realtime-visitors">{data.visitors}</p>
            <p className="text-sm text-gray-500 dark:text-gray-400">
              visitors in the last {Math.round(data.window_seconds / 60)} minutes · updated {site.data ? formatDateTime(data.at, site.data.timezone) : data.at}
            </p>
          </Card>
          <RecentVisitors siteId={siteId} visitors={data.recent_visitors ?? []} timezone={site.data?.timezone ?? "UTC"} />
          <div className="grid gap-4 md:grid-cols-3">
            <List title="Pages" rows={data.pages.map((p) => ({ label: p.page, visitors: p.visitors }))} />
            <List title="Sources" rows={data.sources.map((s) => ({ label: s.source || "Direct / None", visitors: s.visitors }))} />
            <List title="Countries" rows={data.countries.map((c) => ({ label: formatCountry(c.country), visitors: c.visitors }))} />
          </div>
        </>
      )}
    </div>
  );
}
