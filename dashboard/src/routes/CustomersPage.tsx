/** `/sites/{id}/customers`: the paying customers of the range, 50 a page, from
 * `GET /api/v1/customers`; the range is the dashboard's (the URL's `period`). */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation, useParams } from "react-router";
import { Button, Card, ErrorBox, Spinner } from "../components/ui";
import { DateRangePicker } from "../dashboard/Controls";
import { valueLabel } from "../dashboard/panels";
import { useSiteQuery } from "../hooks/queries";
import { useDashboardState } from "../hooks/useDashboardState";
import { api } from "../lib/api";
import { formatDateTime, formatMoney, formatNumber } from "../lib/format";
import { dateRange } from "../state/query";
import type { DashboardState } from "../state/url";

export interface Customer {
  customer: string | null;
  email: string | null;
  customer_id: string | null;
  visitor_id: string | null;
  first_source: string | null;
  first_channel: string | null;
  revenue: number;
  payments: number;
  refunds: number;
  first_payment_at: string | null;
  last_payment_at: string | null;
}

export interface Customers { results: Customer[]; meta: { currency?: string; total_rows?: number } }

export const PAGE_SIZE = 50;

/** The query string of `GET /api/v1/customers`: a custom range is `start,end`. */
export function customersSearch(siteId: string, state: DashboardState, offset: number): string {
  const range = dateRange(state);
  const params = new URLSearchParams({
    site_id: siteId, date_range: Array.isArray(range) ? range.join(",") : range,
    limit: String(PAGE_SIZE), offset: String(offset),
  });
  return params.toString();
}

/** The visitor linked to the customer's payments, a link to their journey. */
function VisitorId({ siteId, id }: { siteId: string; id: string | null }) {
  if (!id) return <span className="text-gray-400">–</span>;
  return (
    <Link to={`/sites/${siteId}/visitors/${id}`} title={`The journey of visitor ${id}`}
      className="block truncate text-xs text-indigo-600 underline dark:text-indigo-400"><code>{id}</code></Link>
  );
}

function CustomersTable({ siteId, timezone, currency: siteCurrency }: { siteId: string; timezone: string; currency: string }) {
  const [state] = useDashboardState();
  const [offset, setOffset] = useState(0);
  const search = customersSearch(siteId, state, offset);
  const customers = useQuery({
    queryKey: ["customers", search],
    queryFn: () => api<Customers>(`/api/v1/customers?${search}`),
    placeholderData: keepPreviousData,
  });
  if (customers.error) return <ErrorBox error={customers.error} />;
  if (!customers.data) return <Spinner />;
  const { results, meta } = customers.data;
  const currency = meta.currency ?? siteCurrency;
  const total = meta.total_rows ?? results.length;
  if (!results.length && offset === 0) {
    return <p className="py-6 text-center text-sm text-gray-500 dark:text-gray-400">No paying customers in this range.</p>;
  }
  const date = (iso: string | null) => (iso ? formatDateTime(iso, timezone) : "–");
  return (
    <>
      <div className="-mx-4 overflow-x-auto px-4">
        <table className="w-full min-w-[52rem] text-sm" data-testid="customers">
          <thead>
            <tr className="text-left text-xs uppercase tracking-wide text-gray-500 dark:text-gray-400">
              <th className="pb-1 font-medium">Customer</th>
              <th className="pb-1 font-medium">Visitor</th>
              <th className="pb-1 font-medium">First source</th>
              <th className="pb-1 text-right font-medium">Revenue</th>
              <th className="pb-1 text-right font-medium">Payments</th>
              <th className="pb-1 text-right font-medium">Refunds</th>
              <th className="pb-1 pl-3 font-medium">First payment</th>
              <th className="pb-1 font-medium">Last payment</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-gray-100 dark:divide-gray-800">
            {results.map((c, i) => {
              const name = c.customer || c.email || c.customer_id || "Anonymous";
              return (
              <tr key={`${c.customer_id ?? c.email ?? c.visitor_id ?? ""}-${i}`}>
                <td className="max-w-56 py-1.5 pr-2">
                  <span className="block truncate font-medium">{name}</span>
                  {c.email && c.email !== name && <span className="block truncate text-xs text-gray-500 dark:text-gray-400">{c.email}</span>}
                </td>
                <td className="max-w-40 py-1.5 pr-2"><VisitorId siteId={siteId} id={c.visitor_id} /></td>
                <td className="max-w-48 py-1.5 pr-2">
                  <span className="block truncate">{valueLabel("visit:source", c.first_source)}</span>
                  {c.first_channel && <span className="block truncate text-xs text-gray-500 dark:text-gray-400">{c.first_channel}</span>}
                </td>
                <td className="py-1.5 text-right tabular-nums">{formatMoney(c.revenue, currency)}</td>
                <td className="py-1.5 text-right tabular-nums">{formatNumber(c.payments)}</td>
                <td className="py-1.5 text-right tabular-nums">{formatMoney(c.refunds, currency)}</td>
                <td className="whitespace-nowrap py-1.5 pl-3 pr-2 text-gray-600 dark:text-gray-400">{date(c.first_payment_at)}</td>
                <td className="whitespace-nowrap py-1.5 text-gray-600 dark:text-gray-400">{date(c.last_payment_at)}</td>
              </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="mt-3 flex items-center justify-between gap-2 text-sm text-gray-600 dark:text-gray-400">
        <span>{results.length ? `${offset + 1}–${offset + results.length} of ${formatNumber(total)}` : "No more customers."}</span>
        <span className="flex gap-2">
          <Button variant="secondary" className="py-1" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>Previous</Button>
          <Button variant="secondary" className="py-1" disabled={offset + results.length >= total} onClick={() => setOffset(offset + PAGE_SIZE)}>Next</Button>
        </span>
      </div>
    </>
  );
}

export default function CustomersPage() {
  const { siteId = "" } = useParams();
  const location = useLocation();
  const site = useSiteQuery(siteId);
  if (site.error) return <ErrorBox error={site.error} />;
  if (!site.data) return <Spinner />;
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="min-w-0 truncate text-xl font-semibold">Customers · {site.data.domain}</h1>
        <Link className="text-sm text-indigo-600 dark:text-indigo-400" to={`/sites/${siteId}${location.search}`}>Back to the dashboard</Link>
      </div>
      <DateRangePicker comparison={false} />
      <Card className="min-w-0">
        <CustomersTable key={location.search} siteId={site.data.id} timezone={site.data.timezone} currency={site.data.currency} />
      </Card>
    </div>
  );
}
