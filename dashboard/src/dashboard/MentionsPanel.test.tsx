// @vitest-environment jsdom
/** The Mentions panel against a stubbed API: the chart's range asked, the posts listed, nothing without posts. */
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Annotation, Mention, StatsQuery } from "../lib/api";
import { renderAt, type Sent, stubApi } from "../test/harness";
import { MentionsPanel } from "./MentionsPanel";

const RANGE = ["2026-02-10T00:00:00+01:00", "2026-03-12T00:00:00+01:00"];
const POST: Annotation = {
  id: 7, kind: "x", time: "2026-03-10T10:00:00Z", text: "Switched our analytics to Postmetric",
  url: "https://x.com/ada/status/1", external_id: "1", author: "@ada",
  details: { post_id: "1", username: "ada", name: "Ada Lovelace", likes: 3, reposts: 1, replies: 0 },
  created_at: "2026-03-10T10:05:00Z", updated_at: "2026-03-10T10:05:00Z",
};

function serve(mentions: Mention[]): Sent[] {
  return stubApi(({ url, body }) => {
    if (url === "/api/v1/query") {
      return [200, { results: [], meta: { currency: "USD" }, query: { ...(body as StatsQuery), date_range: RANGE } }];
    }
    if (url.startsWith("/api/v1/sites/pm_test/mentions?")) return [200, { mentions, currency: "USD" }];
    return [404, { error: `unexpected ${url}` }];
  });
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("the Mentions panel", () => {
  it("lists the chart's range's posts with their visitors and revenue", async () => {
    const sent = serve([{ annotation: POST, visitors: 312, revenue: 147 }]);
    renderAt("/sites/pm_test?period=30d", <MentionsPanel />);
    const table = await screen.findByTestId("mentions");
    const row = within(table).getByRole("row", { name: /@ada/ });
    expect(row.textContent).toContain("Switched our analytics to Postmetric");
    expect(row.textContent).toContain("312");
    expect(row.textContent).toContain("$147.00");
    expect(within(row).getByRole("link").getAttribute("href")).toBe(POST.url);
    const asked = new URL(sent.find((r) => r.url.includes("/mentions?"))!.url, "http://x");
    expect([asked.searchParams.get("from"), asked.searchParams.get("to")]).toEqual(RANGE);
  });

  it("is not shown when the range has no post", async () => {
    const sent = serve([]);
    renderAt("/sites/pm_test?period=30d", <MentionsPanel />);
    await waitFor(() => expect(sent.some((r) => r.url.includes("/mentions?"))).toBe(true));
    await new Promise((resolve) => setTimeout(resolve, 0)); // one turn of the event loop: the answer is read
    expect(screen.queryByText("Mentions")).toBeNull();
  });
});
