// @vitest-environment jsdom
/** The customers list against a stubbed `GET /api/v1/customers`. */
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderAt, SITE, stubApi } from "../test/harness";
import CustomersPage, { type Customer, customersSearch } from "./CustomersPage";
import { parseSearch } from "../state/url";

function customer(n: number): Customer {
  return {
    customer: n === 0 ? "Ada Lovelace" : null, email: n <= 1 ? `c${n}@example.com` : null, customer_id: `cus_${n}`,
    visitor_id: n === 0 ? "v-0123456789" : null, first_source: n === 0 ? "Google" : "", first_channel: n === 0 ? "Organic Search" : "Direct",
    revenue: 1234.5 - n, payments: 3, refunds: n === 0 ? 20 : 0,
    first_payment_at: "2026-03-01T09:00:00Z", last_payment_at: "2026-03-10T23:30:00Z",
  };
}

function serve(total = 2) {
  return stubApi(({ url }) => {
    if (url.startsWith("/api/v1/sites/")) return [200, { ...SITE, role: "owner" }];
    const offset = Number(new URL(url, "http://x").searchParams.get("offset"));
    const results = Array.from({ length: Math.min(50, total - offset) }, (_, i) => customer(offset + i));
    return [200, { results, meta: { currency: "EUR", total_rows: total } }];
  });
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("customers", () => {
  it("asks the URL's range, 50 at a time; a custom range is start,end", () => {
    expect(customersSearch("pm_a", parseSearch("?period=7d"), 0)).toBe("site_id=pm_a&date_range=7d&limit=50&offset=0");
    expect(customersSearch("pm_a", parseSearch("?period=custom&from=2026-03-01&to=2026-03-10"), 50))
      .toBe("site_id=pm_a&date_range=2026-03-01%2C2026-03-10&limit=50&offset=50");
  });

  it("lists each customer with visitor, first source, revenue in the answer's currency, payments and dates", async () => {
    const sent = serve();
    renderAt("/sites/pm_test/customers?period=7d", <CustomersPage />, "/sites/:siteId/customers");
    const ada = (await screen.findByText("Ada Lovelace")).closest("tr")!;
    expect([...ada.querySelectorAll("td")].map((td) => td.textContent)).toEqual([
      "Ada Lovelacec0@example.com", "v-0123456789", "GoogleOrganic Search", "€1,234.50", "3", "€20.00",
      "1 Mar 2026, 10:00", "11 Mar 2026, 00:30",
    ]);
    const second = screen.getByText("c1@example.com").closest("tr")!;
    expect(within(second).getByText("Direct / None")).toBeTruthy();
    expect(within(second).getByText("–")).toBeTruthy(); // no visitor linked
    expect(sent.some((r) => r.url === "/api/v1/customers?site_id=pm_test&date_range=7d&limit=50&offset=0")).toBe(true);
    expect(screen.getByText("1–2 of 2")).toBeTruthy();
  });

  it("pages by 50", async () => {
    const sent = serve(75);
    renderAt("/sites/pm_test/customers", <CustomersPage />, "/sites/:siteId/customers");
    await screen.findByText("1–50 of 75");
    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    await screen.findByText("51–75 of 75");
    expect(sent.at(-1)?.url).toContain("offset=50");
    expect((screen.getByRole("button", { name: "Next" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows the API's error", async () => {
    stubApi(({ url }) => (url.startsWith("/api/v1/sites/") ? [200, { ...SITE, role: "owner" }]
      : [400, { error: "date_range: 'forever' is not a range" }]));
    renderAt("/sites/pm_test/customers", <CustomersPage />, "/sites/:siteId/customers");
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("date_range: 'forever' is not a range"));
  });
});
