/** `/sites/{id}/visitors/{visitorId}`: one visitor's journey (`GET /api/v1/visitors/{id}`): who they
 * are, where they first came from, where and on what they browse, their totals, then every visit
 * with its pages, goals and payments in the order they happened. */
import type { ReactNode } from "react";
import { Link, useParams } from "react-router";
import { Card, cx, ErrorBox, Spinner } from "../components/ui";
import { valueLabel } from "../dashboard/panels";
import { useSiteQuery, useVisitorQuery } from "../hooks/queries";
import { ApiError, type VisitorProfile } from "../lib/api";
import { formatCountry, formatDateTime, formatDuration, formatMoney, formatNumber, formatTime } from "../lib/format";
import { type JourneyEvent, journeyTimeline, paidTotal, paymentAmount } from "../lib/journey";

function Facts({ title, rows }: { title: string; rows: [string, ReactNode][] }) {
  const shown = rows.filter(([, value]) => value !== null && value !== undefined && value !== "");
  return (
    <Card className="min-w-0">
      <h2 className="mb-2 font-semibold">{title}</h2>
      {shown.length === 0 ? <p className="text-sm text-gray-500 dark:text-gray-400">Nothing known.</p> : (
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
          {shown.map(([label, value]) => (
            <div key={label} className="contents">
              <dt className="text-gray-500 dark:text-gray-400">{label}</dt>
              <dd className="min-w-0 break-words">{value}</dd>
            </div>
          ))}
        </dl>
      )}
    </Card>
  );
}

const MARKS: Record<JourneyEvent["kind"], string> = {
  page: "bg-indigo-500", goal: "bg-green-500", payment: "bg-amber-500",
};

/** Whose journey is on screen: a payment made by another of the person's devices says so. */
interface Viewing { siteId: string; visitorId: string; timezone: string }

function EventLine({ event, viewing, showDate }: { event: JourneyEvent; viewing: Viewing; showDate?: boolean }) {
  const { timezone } = viewing;
  const when = showDate ? formatDateTime(event.at, timezone) : formatTime(event.at, timezone);
  let what: ReactNode;
  if (event.kind === "page") {
    what = <>Viewed <code className="break-all text-[0.9em]">{event.page}</code>{event.title && <span className="text-gray-500 dark:text-gray-400"> · {event.title}</span>}</>;
  } else if (event.kind === "goal") {
    const props = Object.entries(event.props).map(([k, v]) => `${k}: ${String(v)}`).join(", ");
    what = <>Goal <strong>{event.name}</strong>{event.page && <span className="text-gray-500 dark:text-gray-400"> on {event.page}</span>}{props && <span className="text-gray-500 dark:text-gray-400"> ({props})</span>}</>;
  } else {
    const { value, currency } = paymentAmount(event.payment);
    const otherDevice = event.payment.visitor_id && event.payment.visitor_id !== viewing.visitorId ? event.payment.visitor_id : null;
    what = (
      <>{event.payment.kind === "refund" ? "Refund" : "Payment"} <strong className="tabular-nums">{formatMoney(value, currency)}</strong>
        <span className="text-gray-500 dark:text-gray-400"> · {event.payment.kind} via {event.payment.provider}</span>
        {otherDevice && <> · <Link className="text-indigo-600 underline dark:text-indigo-400"
          to={`/sites/${viewing.siteId}/visitors/${otherDevice}`}>from another device</Link></>}</>
    );
  }
  return (
    <li className="flex items-start gap-2 py-1 text-sm" data-testid="journey-event" data-kind={event.kind}>
      <span className={cx("mt-1.5 h-2 w-2 shrink-0 rounded-full", MARKS[event.kind])} aria-hidden />
      <span className={cx("shrink-0 pt-0.5 text-xs tabular-nums text-gray-500 dark:text-gray-400", showDate ? "w-28 sm:w-36" : "w-16")}>{when}</span>
      <span className="min-w-0" data-testid="journey-what">{what}</span>
    </li>
  );
}

function Timeline({ profile, siteId, timezone }: { profile: VisitorProfile; siteId: string; timezone: string }) {
  const entries = journeyTimeline(profile);
  const viewing = { siteId, visitorId: profile.visitor_id, timezone };
  let visitNumber = 0;
  return (
    <ol className="space-y-3" data-testid="journey">
      {entries.map((entry) => {
        if (entry.kind === "event") {
          return (
            <li key={`${entry.event.kind}-${entry.at}`}>
              <ul className="px-4"><EventLine event={entry.event} viewing={viewing} showDate /></ul>
            </li>
          );
        }
        const { session } = entry;
        visitNumber += 1;
        return (
          <li key={session.session_id}>
            <Card>
              <h3 className="flex flex-wrap items-baseline gap-x-2 text-sm">
                <span className="font-semibold">Visit {visitNumber}</span>
                <span className="text-gray-600 dark:text-gray-400">{formatDateTime(session.started_at, timezone)}</span>
                <span className="text-xs text-gray-500 dark:text-gray-400">
                  {formatDuration(session.duration)} · {valueLabel("visit:source", session.source)}
                  {session.device && ` · ${session.device}`}{session.country && ` · ${formatCountry(session.country)}`}
                </span>
              </h3>
              <ul className="mt-1 border-l border-gray-200 pl-2 dark:border-gray-800">
                {entry.events.map((event, i) => <EventLine key={i} event={event} viewing={viewing} />)}
              </ul>
            </Card>
          </li>
        );
      })}
    </ol>
  );
}

function notFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

export default function VisitorPage() {
  const { siteId = "", visitorId = "" } = useParams();
  const site = useSiteQuery(siteId);
  const visitor = useVisitorQuery(siteId, visitorId);
  const timezone = site.data?.timezone ?? "UTC";
  const currency = site.data?.currency ?? "USD";
  const header = (
    <div className="flex flex-wrap items-center justify-between gap-2">
      <h1 className="min-w-0 truncate text-xl font-semibold">Visitor journey · {site.data?.domain ?? siteId}</h1>
      <span className="flex gap-3 text-sm">
        <Link className="text-indigo-600 dark:text-indigo-400" to={`/sites/${siteId}/realtime`}>Realtime</Link>
        <Link className="text-indigo-600 dark:text-indigo-400" to={`/sites/${siteId}/customers`}>Customers</Link>
        <Link className="text-indigo-600 dark:text-indigo-400" to={`/sites/${siteId}`}>Dashboard</Link>
      </span>
    </div>
  );
  if (site.error || visitor.error) {
    return (
      <div className="space-y-4">
        {header}
        <ErrorBox error={site.error ?? (notFound(visitor.error)
          ? `No visitor ${visitorId} on this site: they never sent an event here, or their events are past the site's retention.`
          : visitor.error)} />
      </div>
    );
  }
  if (!visitor.data || !site.data) return <div className="space-y-4">{header}<Spinner /></div>;
  const p = visitor.data;
  const id = p.identity;
  const touch = p.first_touch;
  const paid = paidTotal(p.payments, currency);
  const otherDevices = p.person?.visitor_ids.filter((v) => v !== p.visitor_id) ?? [];
  return (
    <div className="space-y-4">
      {header}
      <p className="text-sm text-gray-600 dark:text-gray-400">
        <span className="font-medium text-gray-900 dark:text-gray-100">{id?.name || id?.email || "Anonymous visitor"}</span>{" "}
        <code className="break-all text-xs">{p.visitor_id}</code>
      </p>
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Facts title="Identity" rows={[
          ["Name", id?.name], ["Email", id?.email], ["User id", id?.user_id],
          ["Identified", id ? formatDateTime(id.identified_at, timezone) : null],
          ["Person", p.person?.key],
          ["Other devices", otherDevices.length ? (
            <span className="flex flex-col">{otherDevices.map((v) => (
              <Link key={v} className="truncate text-indigo-600 underline dark:text-indigo-400" to={`/sites/${siteId}/visitors/${v}`}>{v}</Link>
            ))}</span>
          ) : null],
        ]} />
        <Facts title="First touch" rows={[
          ["Source", valueLabel("visit:source", touch.source ?? "")], ["Channel", touch.channel], ["Referrer", touch.referrer],
          ["Campaign", touch.utm_campaign], ["UTM source", touch.utm_source], ["UTM medium", touch.utm_medium],
          ["Entry page", touch.entry_page],
        ]} />
        <Facts title="Location and device" rows={[
          ["Country", p.geo.country ? formatCountry(p.geo.country) : null], ["Region", p.geo.region], ["City", p.geo.city],
          ["Device", p.device.type], ["Browser", [p.device.browser, p.device.browser_version].filter(Boolean).join(" ")],
          ["OS", [p.device.os, p.device.os_version].filter(Boolean).join(" ")],
          ["Screen", p.device.viewport ? `${p.device.viewport.width} × ${p.device.viewport.height}` : null],
        ]} />
        <Facts title="Totals" rows={[
          ["Visits", formatNumber(p.totals.visits)], ["Pageviews", formatNumber(p.totals.pageviews)],
          ["Goals", formatNumber(p.totals.goals)], ["Payments", p.payments.length && paid !== null ? `${p.payments.length} · ${formatMoney(paid, currency)}` : String(p.payments.length)],
          ["First seen", formatDateTime(p.first_seen, timezone)], ["Last seen", formatDateTime(p.last_seen, timezone)],
        ]} />
      </div>
      {p.truncated && (
        <p role="status" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
          This visitor has more events than a journey shows: the oldest are left out.
        </p>
      )}
      <h2 className="font-semibold">Timeline</h2>
      <Timeline profile={p} siteId={siteId} timezone={timezone} />
    </div>
  );
}
