/** The Mentions panel: the range's posts on X by the visitors (and revenue) that came from X in the 24 hours
 * after each; not shown when the range has no post. */
import { Card, ErrorBox } from "../components/ui";
import { useMentionsQuery, useStatsWithRevenue } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import type { XDetails } from "../lib/api";
import { formatDateTime, formatMoney, formatNumber } from "../lib/format";
import { chartQuery } from "../state/query";
import { useSiteView } from "./SiteContext";

export function MentionsPanel() {
  const { site } = useSiteView();
  const [state] = useDashboardState();
  // The chart's query (the same cache entries): its answer says the range as the server resolved it.
  const chart = useStatsWithRevenue(chartQuery(site.id, state));
  const mentions = useMentionsQuery(site.id, chart.data?.query.date_range ?? null);
  if (mentions.error) return <Card><ErrorBox error={mentions.error} /></Card>;
  const found = mentions.data?.mentions ?? [];
  if (!found.length) return null;
  const currency = mentions.data?.currency ?? site.currency;
  return (
    <Card className="md:col-span-2">
      <div className="mb-2 flex items-baseline justify-between gap-2">
        <h2 className="font-semibold">Mentions</h2>
        <p className="text-xs text-gray-500 dark:text-gray-400">Visitors from X in the 24 h after each post</p>
      </div>
      <table className="w-full text-sm" data-testid="mentions">
        <thead>
          <tr className="text-left text-xs text-gray-500 dark:text-gray-400">
            <th className="pb-1 font-medium">Post</th>
            <th className="pb-1 text-right font-medium">Visitors</th>
            <th className="pb-1 text-right font-medium">Revenue</th>
          </tr>
        </thead>
        <tbody>
          {found.map(({ annotation, visitors, revenue }) => {
            const details = (annotation.details ?? {}) as Partial<XDetails>;
            const handle = details.username ? `@${details.username}` : annotation.author;
            return (
              <tr key={annotation.id} className="border-t border-gray-100 align-top dark:border-gray-800">
                <td className="py-1.5 pr-2">
                  <div className="text-xs text-gray-500 dark:text-gray-400">
                    {handle && <span className="mr-2 font-medium text-gray-800 dark:text-gray-200">{handle}</span>}
                    {formatDateTime(annotation.time, site.timezone)}
                  </div>
                  {annotation.url
                    ? <a href={annotation.url} target="_blank" rel="noreferrer noopener" className="line-clamp-2 break-words hover:underline">{annotation.text}</a>
                    : <p className="line-clamp-2 break-words">{annotation.text}</p>}
                </td>
                <td className="py-1.5 text-right tabular-nums">{formatNumber(visitors)}</td>
                <td className="py-1.5 pl-2 text-right tabular-nums">{formatMoney(revenue, currency)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Card>
  );
}
