/** Tests render screens against a stubbed `fetch` that answers in the real API's shapes. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { vi } from "vitest";
import { SiteContext } from "../dashboard/SiteContext";
import type { Site } from "../lib/api";

export const SITE = { id: "pm_test", domain: "example.com", name: null, timezone: "Europe/Berlin", currency: "USD" };
/** The same site as `GET /api/v1/sites/{id}` answers it, to its owner. */
export const OWNED_SITE: Site = {
  ...SITE, allowed_hostnames: [], excluded_ips: [], excluded_countries: [], excluded_hostnames: [], excluded_paths: [],
  cookieless: false, retention_days: null, role: "owner", created_at: "2026-03-01T00:00:00Z",
  updated_at: "2026-03-01T00:00:00Z",
};

export interface Sent { url: string; method: string; body: unknown; headers: Record<string, string> }

/** `fetch` answered by `handler` (a status and a JSON body); every request is kept in the list. */
export function stubApi(handler: (request: Sent) => [number, unknown]): Sent[] {
  const sent: Sent[] = [];
  vi.stubGlobal("fetch", vi.fn(async (url: string, init: RequestInit = {}) => {
    const request = {
      url, method: init.method ?? "GET", body: init.body ? JSON.parse(String(init.body)) : undefined,
      headers: (init.headers ?? {}) as Record<string, string>,
    };
    sent.push(request);
    const [status, body] = handler(request);
    return new Response(body === null ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  }));
  return sent;
}

/** `element` at `url` under `path`, inside a site's dashboard context (the shared view's when
 * `readOnly`); returns the router. */
export function renderAt(url: string, element: ReactNode, path = "/sites/:siteId", { readOnly = false } = {}) {
  const router = createMemoryRouter([{ path, element }], { initialEntries: [url] });
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <SiteContext.Provider value={{ site: SITE, readOnly }}><RouterProvider router={router} /></SiteContext.Provider>
    </QueryClientProvider>,
  );
  return router;
}
