import { Link } from "react-router";
import { Sparkline } from "../components/Sparkline";
import { Card, ErrorBox, Spinner } from "../components/ui";
import { useSitesQuery, useStatsQuery } from "../hooks/queries";
import type { Site } from "../lib/api";
import { formatNumber } from "../lib/format";

function SiteCard({ site }: { site: Site }) {
  const stats = useStatsQuery({
    site_id: site.id, date_range: "30d", metrics: ["visitors"], dimensions: ["time:day"],
    include: { time_labels: true },
  });
  const totals = useStatsQuery({ site_id: site.id, date_range: "30d", metrics: ["visitors"] });
  const values = stats.data?.results.map((row) => row.metrics[0] ?? 0) ?? [];
  const total = totals.data?.results[0]?.metrics[0] ?? null;
  return (
    <Link to={`/sites/${site.id}`} className="block">
      <Card className="flex items-center justify-between gap-3 hover:border-indigo-400">
        <div className="min-w-0">
          <p className="truncate font-medium">{site.name || site.domain}</p>
          {site.name && site.name !== site.domain && <p className="truncate text-sm text-gray-500 dark:text-gray-400">{site.domain}</p>}
          {stats.error || totals.error ? <p className="text-xs text-red-600">{((stats.error || totals.error) as Error).message}</p> : (
            <p className="text-sm"><span className="font-semibold">{totals.data ? formatNumber(total) : "…"}</span> visitors, last 30 days</p>
          )}
        </div>
        <Sparkline values={values} label={`Visitors per day for ${site.domain}, last 30 days`} />
      </Card>
    </Link>
  );
}

export function SitesPage() {
  const sites = useSitesQuery();
  return (
    <div>
      <div className="mb-4 flex items-center justify-between">
        <h1 className="text-xl font-semibold">Sites</h1>
        <Link to="/sites/new" className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">Add a site</Link>
      </div>
      <ErrorBox error={sites.error} />
      {sites.isPending && <Spinner />}
      {sites.data && sites.data.sites.length === 0 && (
        <Card><p className="text-sm">No site yet. <Link className="text-indigo-600 dark:text-indigo-400" to="/sites/new">Add your first site</Link> to get its tracking snippet.</p></Card>
      )}
      <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {sites.data?.sites.map((site) => <SiteCard key={site.id} site={site} />)}
      </div>
    </div>
  );
}
