// @vitest-environment jsdom
/** A marker's card against a stubbed impact API: what each kind shows, and who may change a note. */
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Annotation, AroundImpact, PostImpact } from "../../lib/api";
import { renderAt, type Sent, stubApi } from "../../test/harness";
import { AnnotationCard } from "./AnnotationCard";

const COMMIT: Annotation = {
  id: 1, kind: "github", time: "2026-03-10T09:00:00Z", text: "Fix the signup form\n\nSafari sent an empty body.",
  url: "https://github.com/example/app/commit/4f2a9c1e0b7d", external_id: "4f2a9c1e0b7d", author: "octocat",
  details: { type: "commit", sha: "4f2a9c1e0b7d", additions: 12, deletions: 3 },
  created_at: "2026-03-10T09:05:00Z", updated_at: "2026-03-10T09:05:00Z",
};
const POST: Annotation = {
  id: 2, kind: "x", time: "2026-03-10T10:00:00Z", text: "Switched to Postmetric", url: "https://x.com/ada/status/1",
  external_id: "1", author: "Ada Lovelace",
  details: { post_id: "1", username: "ada", name: "Ada Lovelace", likes: 214, reposts: 31, replies: 12 },
  created_at: "2026-03-10T10:05:00Z", updated_at: "2026-03-10T10:05:00Z",
};
const NOTE: Annotation = {
  id: 3, kind: "note", time: "2026-03-10T11:00:00Z", text: "Launched on Product Hunt", url: null, external_id: null,
  author: null, details: null, created_at: "2026-03-10T11:05:00Z", updated_at: "2026-03-10T11:05:00Z",
};
const AROUND: AroundImpact = {
  annotation_id: 1, window: "7d", currency: "USD", partial: true,
  before: { start: "", end: "", visitors: 200, conversion_rate: 1.5, revenue: 300 },
  after: { start: "", end: "", visitors: 250, conversion_rate: 2, revenue: 450 },
};
const FROM_X: PostImpact = {
  annotation_id: 2, window: "24h", start: "", end: "", visitors: 312, revenue: 147, currency: "USD", partial: false,
};

function serve(): Sent[] {
  return stubApi(({ url, method }) => {
    if (method === "DELETE") return [204, null];
    if (url.endsWith("/2/impact")) return [200, FROM_X];
    if (url.endsWith("/impact")) return [200, { ...AROUND, annotation_id: Number(url.split("/").at(-2)) }];
    return [404, { error: `unexpected ${url}` }];
  });
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("an annotation card", () => {
  it("shows a commit's sha, first line, author and size, and the week before against the week after", async () => {
    serve();
    renderAt("/sites/pm_test", <AnnotationCard annotations={[COMMIT]} siteId="pm_test" timeZone="UTC" canManage onClose={() => {}} />);
    const card = screen.getByTestId("annotation-card");
    expect(card.textContent).toContain("4f2a9c1Fix the signup form");
    expect(card.textContent).not.toContain("Safari sent");
    expect(card.textContent).toContain("octocat");
    expect(card.textContent).toContain("+12 −3");
    expect(within(card).getByRole("link", { name: "View on GitHub" }).getAttribute("href")).toBe(COMMIT.url);
    const impact = await within(card).findByTestId("impact");
    expect(impact.textContent).toContain("7 days before → after (so far)");
    expect(within(impact).getByRole("row", { name: /Visitors/ }).textContent).toBe("Visitors200 → 250+25%");
    expect(within(impact).getByRole("row", { name: /Revenue/ }).textContent).toBe("Revenue$300.00 → $450.00+50%");
    expect(within(card).queryByRole("button", { name: "Edit" })).toBeNull(); // a commit is its sync's
  });

  it("leaves out a commit's size until its sync has it, and shows a release's tag", () => {
    serve();
    const unsized = { ...COMMIT, details: { type: "commit" as const, sha: "4f2a9c1e0b7d", additions: null, deletions: null, tag: null } };
    const release = { ...COMMIT, id: 4, text: "v2.0", details: { type: "release" as const, sha: null, additions: null, deletions: null, tag: "v2.0" } };
    renderAt("/sites/pm_test", <AnnotationCard annotations={[unsized, release]} siteId="pm_test" timeZone="UTC" canManage onClose={() => {}} />);
    const [releaseItem, commitItem] = within(screen.getByTestId("annotation-card")).getAllByRole("listitem");
    expect(commitItem.textContent).toContain("4f2a9c1Fix the signup form");
    expect(commitItem.textContent).not.toMatch(/\+\d/);
    expect(releaseItem.textContent).toContain("v2.0v2.0");
  });

  it("shows a post's author, counts and the visitors that came from X after it", async () => {
    serve();
    renderAt("/sites/pm_test", <AnnotationCard annotations={[POST]} siteId="pm_test" timeZone="UTC" canManage onClose={() => {}} />);
    const card = screen.getByTestId("annotation-card");
    expect(card.textContent).toContain("@adaAda Lovelace");
    expect(card.textContent).toContain("214 likes31 reposts12 replies");
    expect(card.textContent).not.toContain("impressions"); // not given
    expect((await within(card).findByTestId("impact")).textContent).toBe("From X in the 24 h after: 312 visitors, $147.00");
  });

  it("titles a mixed group, lists the newest first, and lets a manager delete a note", async () => {
    const sent = serve();
    vi.stubGlobal("confirm", () => true);
    renderAt("/sites/pm_test", <AnnotationCard annotations={[COMMIT, POST, NOTE]} siteId="pm_test" timeZone="UTC" canManage onClose={() => {}} />);
    const card = screen.getByRole("dialog", { name: "3 annotations" });
    const items = within(card).getAllByRole("listitem");
    expect(items.map((item) => item.textContent?.slice(0, 4))).toEqual(["Note", "Post", "Comm"]);
    fireEvent.click(within(items[0]).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(sent.some((r) => r.method === "DELETE")).toBe(true));
    expect(sent.find((r) => r.method === "DELETE")?.url).toBe("/api/v1/sites/pm_test/annotations/3");
  });

  it("shows a note read-only to a viewer and on the shared view", async () => {
    serve();
    renderAt("/sites/pm_test", <AnnotationCard annotations={[NOTE]} siteId="pm_test" timeZone="UTC" canManage={false} onClose={() => {}} />);
    const card = screen.getByTestId("annotation-card");
    expect(card.textContent).toContain("Launched on Product Hunt");
    await within(card).findByTestId("impact");
    expect(within(card).queryByRole("button", { name: "Edit" })).toBeNull();
    expect(within(card).queryByRole("button", { name: "Delete" })).toBeNull();
  });
});
