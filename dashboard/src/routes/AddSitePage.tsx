import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { Button, Card, ErrorBox, Input } from "../components/ui";
import { useStatsQuery } from "../hooks/queries";
import { api, type Site } from "../lib/api";

export function snippetFor(siteId: string, origin: string = window.location.origin): string {
  return `<script defer data-website-id="${siteId}" src="${origin}/js/script.js"></script>`;
}

export function Snippet({ siteId }: { siteId: string }) {
  const snippet = snippetFor(siteId);
  const [copied, setCopied] = useState(false);
  return (
    <div>
      <pre className="whitespace-pre-wrap break-all rounded-md bg-gray-900 p-3 text-xs text-gray-100 dark:bg-black"><code>{snippet}</code></pre>
      <Button variant="secondary" className="mt-2" onClick={() => navigator.clipboard?.writeText(snippet).then(() => setCopied(true))}>
        {copied ? "Copied" : "Copy snippet"}
      </Button>
    </div>
  );
}

/** Polls a realtime `events` count until the first event arrives. */
export function FirstEventCheck({ siteId }: { siteId: string }) {
  const [received, setReceived] = useState(false);
  const stats = useStatsQuery({ site_id: siteId, date_range: "realtime", metrics: ["events"] },
                              { refetchInterval: received ? undefined : 3000 });
  const count = stats.data?.results[0]?.metrics[0] ?? 0;
  if (count > 0 && !received) setReceived(true);
  return (
    <div className="mt-4" aria-live="polite">
      <ErrorBox error={stats.error} />
      {received ? (
        <p className="font-medium text-green-700 dark:text-green-400">✓ First event received. <Link className="underline" to={`/sites/${siteId}`}>Open the dashboard</Link></p>
      ) : (
        <p className="text-sm text-gray-600 dark:text-gray-400"><span className="mr-2 inline-block h-2 w-2 animate-ping rounded-full bg-amber-500" />Waiting for the first event… load a page of your site that has the snippet.</p>
      )}
    </div>
  );
}

export function AddSitePage() {
  const queryClient = useQueryClient();
  const [domain, setDomain] = useState("");
  const [name, setName] = useState("");
  const [timezone, setTimezone] = useState(Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC");
  const create = useMutation({
    mutationFn: () => api<Site>("/api/v1/sites", { body: { domain, name: name || undefined, timezone } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["sites"] }),
  });
  if (create.data) {
    return (
      <Card className="mx-auto max-w-2xl">
        <h1 className="mb-2 text-xl font-semibold">Add the snippet to {create.data.domain}</h1>
        <p className="mb-3 text-sm text-gray-600 dark:text-gray-400">Paste it into the <code>&lt;head&gt;</code> of every page.</p>
        <Snippet siteId={create.data.id} />
        <FirstEventCheck siteId={create.data.id} />
      </Card>
    );
  }
  return (
    <Card className="mx-auto max-w-md">
      <h1 className="mb-4 text-xl font-semibold">Add a site</h1>
      <form className="space-y-3" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <Input label="Domain" placeholder="example.com" required value={domain} onChange={(e) => setDomain(e.target.value)} />
        <Input label="Name (optional)" value={name} onChange={(e) => setName(e.target.value)} />
        <Input label="Timezone" value={timezone} onChange={(e) => setTimezone(e.target.value)} />
        <ErrorBox error={create.error} />
        <Button type="submit" disabled={create.isPending}>Add site</Button>
      </form>
    </Card>
  );
}
