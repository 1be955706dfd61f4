import { describe, expect, it } from "vitest";
import type { Payment, VisitorProfile } from "./api";
import { journeyTimeline, paidTotal } from "./journey";

function payment(timestamp: string, extra: Partial<Payment> = {}): Payment {
  return {
    transaction_id: `tx-${timestamp}`, provider: "stripe", kind: "new", amount: "29.99", currency: "USD", timestamp,
    amount_minor: 2999, reporting_amount: null, reporting_currency: null, customer_id: null, email: null,
    visitor_id: null, session_id: null, link_method: null, ...extra,
  };
}

function session(id: string, start: string, end: string) {
  return { session_id: id, started_at: start, ended_at: end, duration: 0, entry_page: "/", exit_page: "/", pageviews: 1,
           source: "", channel: "Direct", country: "DE", device: "desktop" };
}

const PROFILE: VisitorProfile = {
  visitor_id: "v1", first_seen: "2026-03-01T09:00:00Z", last_seen: "2026-03-02T10:05:00Z", identity: null,
  geo: { country: "DE", region: "", city: "" },
  device: { type: "desktop", browser: "Chrome", browser_version: "", os: "", os_version: "", viewport: null },
  first_touch: { source: "", channel: "", referrer: "", referrer_host: "", utm_source: "", utm_medium: "", utm_campaign: "", utm_term: "", utm_content: "", ref: "", entry_page: "", click_ids: {} },
  totals: { visits: 2, pageviews: 3, goals: 1 },
  // Out of order on purpose: the timeline orders by start.
  sessions: [session("s2", "2026-03-02T10:00:00Z", "2026-03-02T10:05:00Z"), session("s1", "2026-03-01T09:00:00Z", "2026-03-01T09:03:00Z")],
  pages: [
    { page: "/", hostname: "a.test", title: "Home", timestamp: "2026-03-01T09:00:00Z", session_id: "s1" },
    { page: "/pricing", hostname: "a.test", title: "Pricing", timestamp: "2026-03-01T09:03:00Z", session_id: "s1" },
    { page: "/docs", hostname: "a.test", title: "Docs", timestamp: "2026-03-02T10:00:00Z", session_id: "s2" },
  ],
  goals: [{ name: "signup", timestamp: "2026-03-01T09:03:00Z", page: "/pricing", props: {} }],
  payments: [
    payment("2026-03-20T00:00:00Z", { kind: "renewal", amount: "10.00" }),
    payment("2026-03-02T10:04:00Z", { session_id: "s2" }),
    payment("2026-03-02T12:00:00Z", { kind: "refund", amount: "5.00" }),
  ],
  truncated: false,
  person: { key: null, visitor_ids: ["v1"] },
};

describe("a visitor's journey", () => {
  it("lists visits by start, each with its pages, goals and payments in time order; what no visit holds sits between them", () => {
    const timeline = journeyTimeline(PROFILE);
    const read = timeline.map((entry) => entry.kind === "visit"
      ? [entry.session.session_id, entry.events.map((e) => `${e.kind}@${e.at.slice(11, 16)}`)]
      : [entry.event.kind, entry.at]);
    expect(read).toEqual([
      ["s1", ["page@09:00", "page@09:03", "goal@09:03"]],
      ["s2", ["page@10:00", "payment@10:04"]],
      ["payment", "2026-03-02T12:00:00Z"],
      ["payment", "2026-03-20T00:00:00Z"],
    ]);
  });

  it("places a payment by its session id even outside the visit's span", () => {
    const late = { ...PROFILE, payments: [payment("2026-03-01T09:30:00Z", { session_id: "s1" })] };
    const first = journeyTimeline(late)[0];
    expect(first.kind === "visit" && first.events.map((e) => e.kind)).toEqual(["page", "page", "goal", "payment"]);
  });

  it("adds up payments net of refunds in the site's currency, others by their reporting amount, or not at all without one", () => {
    expect(paidTotal(PROFILE.payments, "USD")).toBeCloseTo(29.99 + 10 - 5);
    expect(paidTotal([payment("2026-03-01T00:00:00Z", { currency: "EUR", amount: "10.00", reporting_currency: "USD", reporting_amount: "11.00" }),
                      payment("2026-03-01T00:00:00Z", { currency: "USD", amount: "1.00" })], "USD")).toBe(12);
    expect(paidTotal([payment("2026-03-01T00:00:00Z", { currency: "GBP", reporting_currency: null, reporting_amount: null })], "USD")).toBeNull();
  });
});
