/**
 * A visitor's journey as one time-ordered timeline: their visits in the order they began, each
 * with its pageviews, goals and payments in the order they happened. A pageview belongs to its
 * visit by session id; a goal or a payment to the visit of its session id when it names one, else
 * to the visit whose time span holds it; what falls outside every visit (a renewal a month later)
 * is its own entry of the timeline, between the visits.
 */
import type { Payment, VisitorProfile, VisitorSession } from "./api";

export type JourneyEvent =
  | { kind: "page"; at: string; page: string; title: string; hostname: string }
  | { kind: "goal"; at: string; name: string; page: string; props: Record<string, unknown> }
  | { kind: "payment"; at: string; payment: Payment };

export type JourneyEntry =
  | { kind: "visit"; at: string; session: VisitorSession; events: JourneyEvent[] }
  | { kind: "event"; at: string; event: JourneyEvent };

// Same instant: the page first, then what was done on it, then the money.
const ORDER: Record<JourneyEvent["kind"], number> = { page: 0, goal: 1, payment: 2 };

function byTime<T extends { at: string }>(rank: (item: T) => number) {
  return (a: T, b: T) => Date.parse(a.at) - Date.parse(b.at) || rank(a) - rank(b);
}

export function journeyTimeline(profile: VisitorProfile): JourneyEntry[] {
  const visits = [...profile.sessions]
    .sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at))
    .map((session) => ({ kind: "visit" as const, at: session.started_at, session, events: [] as JourneyEvent[] }));
  const bySession = new Map(visits.map((visit) => [visit.session.session_id, visit]));
  const loose: JourneyEntry[] = [];
  const place = (event: JourneyEvent, sessionId: string | null | undefined) => {
    const at = Date.parse(event.at);
    const visit = (sessionId ? bySession.get(sessionId) : undefined)
      ?? visits.find((v) => Date.parse(v.session.started_at) <= at && at <= Date.parse(v.session.ended_at));
    if (visit) visit.events.push(event);
    else loose.push({ kind: "event", at: event.at, event });
  };
  for (const p of profile.pages) {
    place({ kind: "page", at: p.timestamp, page: p.page, title: p.title, hostname: p.hostname }, p.session_id);
  }
  for (const g of profile.goals) place({ kind: "goal", at: g.timestamp, name: g.name, page: g.page, props: g.props }, null);
  for (const payment of profile.payments) place({ kind: "payment", at: payment.timestamp, payment }, payment.session_id);
  for (const visit of visits) visit.events.sort(byTime<JourneyEvent>((e) => ORDER[e.kind]));
  // A visit sorts before a loose event of the same instant, since the event happened in its wake.
  return [...visits, ...loose].sort(byTime<JourneyEntry>((e) => (e.kind === "visit" ? 0 : 1)));
}

/** A payment's amount as money in its own currency: a refund negative. */
export function paymentAmount(payment: Payment): { value: number; currency: string } {
  const value = Number(payment.amount);
  return { value: payment.kind === "refund" ? -value : value, currency: payment.currency };
}

/** Net money paid (refunds subtracted) in the site's currency: a payment in another currency
 * counts by its reporting amount, converted into the site's currency when it was recorded; null
 * when a payment has no amount in the site's currency (no rate was known). */
export function paidTotal(payments: Payment[], currency: string): number | null {
  let total = 0;
  for (const payment of payments) {
    const sign = payment.kind === "refund" ? -1 : 1;
    if (payment.currency === currency) total += sign * Number(payment.amount);
    else if (payment.reporting_currency === currency && payment.reporting_amount) total += sign * Number(payment.reporting_amount);
    else return null;
  }
  return total;
}
