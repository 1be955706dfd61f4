// @vitest-environment jsdom
/** Settings → Revenue against a stubbed API: four providers, a secret set but never shown. */
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../lib/api";
import type { Site } from "../lib/api";
import { OWNED_SITE, renderAt, type Sent, stubApi } from "../test/harness";
import { type RevenueProvider, RevenueSettings } from "./RevenueSettings";

const SITE: Site = OWNED_SITE;
const SECRET = "whsec_do-not-show-me-1234";

function providers(): RevenueProvider[] {
  return ["stripe", "lemonsqueezy", "polar", "paddle"].map((provider) => ({
    provider, webhook_url: `https://stats.example/api/webhooks/${provider}/pm_test`, secret_set: provider === "polar",
    last_delivery: provider === "polar" ? { at: "2026-03-10T13:05:00Z", event_type: "order.paid", result: "recorded" } : null,
  }));
}

function serve(put: (request: Sent) => [number, unknown] = ({ url }) => [200, {
  ...providers().find((p) => url.endsWith(`/${p.provider}`))!, secret_set: true, webhook_secret_echo: SECRET,
}]) {
  return stubApi((request) => (request.method === "GET" ? [200, { providers: providers() }] : put(request)));
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

const card = (name: string) => screen.getByRole("region", { name });

describe("revenue settings", () => {
  it("show a card per provider with its webhook URL, the events to enable and the last delivery", async () => {
    serve();
    renderAt("/sites/pm_test/settings/revenue", <RevenueSettings site={SITE} />, "/sites/:siteId/settings/:section");
    await screen.findByText("Stripe");
    expect(screen.getAllByTestId("webhook-url").map((code) => code.textContent)).toEqual([
      "https://stats.example/api/webhooks/stripe/pm_test", "https://stats.example/api/webhooks/lemonsqueezy/pm_test",
      "https://stats.example/api/webhooks/polar/pm_test", "https://stats.example/api/webhooks/paddle/pm_test",
    ]);
    expect(within(card("Stripe")).getByText("invoice.paid")).toBeTruthy();
    expect(within(card("Paddle")).getByText("adjustment.created")).toBeTruthy();
    expect(within(card("Stripe")).getByText("no secret yet")).toBeTruthy();
    expect(within(card("Stripe")).getByTestId("last-delivery").textContent).toBe("No delivery yet.");
    expect(within(card("Polar")).getByText("secret set")).toBeTruthy();
    expect(within(card("Polar")).getByTestId("last-delivery").textContent).toBe("Last delivery: 10 Mar 2026, 14:05 · order.paid · recorded");
  });

  it("sets a secret with the CSRF header, then says it is set and never shows it", async () => {
    setCsrfToken("csrf-1");
    const sent = serve();
    renderAt("/sites/pm_test/settings/revenue", <RevenueSettings site={SITE} />, "/sites/:siteId/settings/:section");
    const stripe = await screen.findByRole("region", { name: "Stripe" });
    const input = within(stripe).getByLabelText("Signing secret") as HTMLInputElement;
    expect(input.type).toBe("password");
    fireEvent.change(input, { target: { value: SECRET } });
    fireEvent.click(within(stripe).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(within(card("Stripe")).getByText("secret set")).toBeTruthy());
    const put = sent.find((r) => r.method === "PUT")!;
    expect(put.url).toBe("/api/v1/sites/pm_test/revenue/stripe");
    expect(put.body).toEqual({ webhook_secret: SECRET });
    expect(put.headers["X-CSRF-Token"]).toBe("csrf-1");
    expect((within(card("Stripe")).getByLabelText("Replace the signing secret") as HTMLInputElement).value).toBe("");
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(within(card("Stripe")).getByText("Saved")).toBeTruthy();
  });

  it("shows the API's refusal (a viewer's 403) and the error of the list itself", async () => {
    serve(() => [403, { error: "forbidden: viewers cannot change this site" }]);
    renderAt("/sites/pm_test/settings/revenue", <RevenueSettings site={SITE} />, "/sites/:siteId/settings/:section");
    const paddle = await screen.findByRole("region", { name: "Paddle" });
    fireEvent.change(within(paddle).getByLabelText("Signing secret"), { target: { value: "pdl_secret" } });
    fireEvent.click(within(paddle).getByRole("button", { name: "Save" }));
    expect((await within(paddle).findByRole("alert")).textContent).toBe("forbidden: viewers cannot change this site");
    expect(within(card("Paddle")).getByText("no secret yet")).toBeTruthy();
    cleanup();

    stubApi(() => [404, { error: "not found: /api/v1/sites/pm_test/revenue" }]);
    renderAt("/sites/pm_test/settings/revenue", <RevenueSettings site={SITE} />, "/sites/:siteId/settings/:section");
    expect((await screen.findByRole("alert")).textContent).toBe("not found: /api/v1/sites/pm_test/revenue");
  });
});
