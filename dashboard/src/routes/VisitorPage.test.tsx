// @vitest-environment jsdom
/** The journey page against a stubbed visitor profile. */
import { cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { VisitorProfile } from "../lib/api";
import { renderAt, SITE, stubApi } from "../test/harness";
import VisitorPage from "./VisitorPage";

const V = "3f1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6f";
const PROFILE: VisitorProfile = {
  visitor_id: V, first_seen: "2026-03-10T09:00:00Z", last_seen: "2026-03-10T09:05:00Z",
  identity: { user_id: "u_42", email: "ada@example.com", name: "Ada", props: {}, identified_at: "2026-03-10T09:05:00Z" },
  geo: { country: "DE", region: "Berlin", city: "Berlin" },
  device: { type: "desktop", browser: "Chrome", browser_version: "131.0", os: "Windows", os_version: "10", viewport: { width: 1280, height: 800 } },
  first_touch: { source: "Google", channel: "Organic Search", referrer: "https://www.google.com/", referrer_host: "google.com",
                 utm_source: "", utm_medium: "", utm_campaign: "", utm_term: "", utm_content: "", ref: "", entry_page: "/", click_ids: {} },
  totals: { visits: 1, pageviews: 2, goals: 1 },
  sessions: [{ session_id: "s1", started_at: "2026-03-10T09:00:00Z", ended_at: "2026-03-10T09:05:00Z", duration: 300,
               entry_page: "/", exit_page: "/pricing", pageviews: 2, source: "Google", channel: "Organic Search", country: "DE", device: "desktop" }],
  pages: [{ page: "/", hostname: "example.com", title: "Home", timestamp: "2026-03-10T09:00:00Z", session_id: "s1" },
          { page: "/pricing", hostname: "example.com", title: "Pricing", timestamp: "2026-03-10T09:02:00Z", session_id: "s1" }],
  goals: [{ name: "signup", timestamp: "2026-03-10T09:04:00Z", page: "/pricing", props: { plan: "pro" } }],
  payments: [{ transaction_id: "pi_1", provider: "stripe", kind: "new", amount: "1234.50", currency: "EUR", timestamp: "2026-03-10T09:05:00Z",
               amount_minor: 123450, reporting_amount: null, reporting_currency: null, link_method: null,
               customer_id: null, email: null, session_id: null, visitor_id: V },
             { transaction_id: "pi_2", provider: "api", kind: "renewal", amount: "10.00", currency: "EUR", timestamp: "2026-04-10T09:00:00Z",
               amount_minor: 1000, reporting_amount: null, reporting_currency: null, link_method: null,
               customer_id: null, email: null, session_id: null, visitor_id: "11111111-2222-4333-8444-555555555555" }],
  truncated: false,
  person: { key: "user:u_42", visitor_ids: [V, "11111111-2222-4333-8444-555555555555"] },
};

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const open = () => renderAt(`/sites/pm_test/visitors/${V}`, <VisitorPage />, "/sites/:siteId/visitors/:visitorId");

describe("the journey page", () => {
  it("shows who, from where, on what, then the visit's pages, goal and payment in order", async () => {
    const sent = stubApi(({ url }) => (url.startsWith("/api/v1/sites/") ? [200, { ...SITE, role: "owner" }] : [200, PROFILE]));
    open();
    const events = await screen.findAllByTestId("journey-event");
    // Site timezone Europe/Berlin: UTC+1 in March.
    expect(events.map((e) => e.textContent)).toEqual([
      "10:00:00Viewed / · Home", "10:02:00Viewed /pricing · Pricing", "10:04:00Goal signup on /pricing (plan: pro)",
      "10:05:00Payment €1,234.50 · new via stripe",
      // Paid a month later on the person's other device: after the visit, said so, linked.
      "10 Apr 2026, 11:00Payment €10.00 · renewal via api · from another device",
    ]);
    expect(screen.getByRole("link", { name: "from another device" }).getAttribute("href"))
      .toBe("/sites/pm_test/visitors/11111111-2222-4333-8444-555555555555");
    expect(sent.find((r) => r.url.startsWith("/api/v1/visitors/"))!.url).toBe(`/api/v1/visitors/${V}?site_id=pm_test`);
    expect(screen.getByText("Visit 1")).toBeTruthy();
    expect(screen.getByText("ada@example.com")).toBeTruthy();
    expect(screen.getByText("Organic Search")).toBeTruthy();
    expect(screen.getByText("1280 × 800")).toBeTruthy();
    expect(screen.getByText("user:u_42")).toBeTruthy();
    const other = screen.getByRole("link", { name: "11111111-2222-4333-8444-555555555555" });
    expect(other.getAttribute("href")).toBe("/sites/pm_test/visitors/11111111-2222-4333-8444-555555555555");
    // A payment in euros with no amount in the site's dollars: counted, not added up.
    expect(screen.getByText("Payments").nextSibling!.textContent).toBe("2");
  });

  it("says clearly when the visitor is unknown", async () => {
    stubApi(({ url }) => (url.startsWith("/api/v1/sites/") ? [200, { ...SITE, role: "owner" }] : [404, { error: "visitor_id: not found" }]));
    open();
    expect((await screen.findByRole("alert")).textContent).toContain(`No visitor ${V} on this site`);
  });
});
