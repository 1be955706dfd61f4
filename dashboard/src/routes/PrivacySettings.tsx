/** Settings → Privacy: export the site's raw data (a zip, with progress), erase a visitor or a person, the erasures so far. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button, ErrorBox, Input, Spinner } from "../components/ui";
import { api, download, type Site } from "../lib/api";
import { formatDateTime, formatNumber } from "../lib/format";

export interface Erasure {
  id: number; selector: string; erased_at: string; erased_by?: string | null;
  visitors: number; events: number; visits: number; identities: number; payments_scrubbed: number;
}

const SELECTORS = [["email", "Email"], ["user_id", "User id"], ["visitor_id", "Visitor id"]] as const;
type SelectorKind = (typeof SELECTORS)[number][0];

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function save(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function Export({ site }: { site: Site }) {
  const [received, setReceived] = useState<number | null>(null);
  const exporting = useMutation({
    mutationFn: async () => {
      setReceived(0);
      const blob = await download(`/api/v1/sites/${site.id}/export`, setReceived);
      save(blob, `postmetric-${site.domain}-${new Date().toISOString().slice(0, 10)}.zip`);
      return blob.size;
    },
  });
  return (
    <section aria-label="Export" className="space-y-2">
      <h2 className="font-medium">Export</h2>
      <p className="text-sm text-gray-600 dark:text-gray-400">
        Every stored event, visit and payment of {site.domain}, as a zip of three CSV files (events, visits, payments).
      </p>
      <div className="flex items-center gap-3">
        <Button onClick={() => exporting.mutate()} disabled={exporting.isPending}>
          {exporting.isPending ? "Exporting…" : "Export all data"}
        </Button>
        <span data-testid="export-progress" className="text-sm text-gray-600 dark:text-gray-400" aria-live="polite">
          {exporting.isPending && received !== null && `${formatBytes(received)} received`}
          {exporting.isSuccess && `Done: ${formatBytes(exporting.data)} saved`}
        </span>
      </div>
      <ErrorBox error={exporting.error} />
    </section>
  );
}

function Erase({ site }: { site: Site }) {
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<SelectorKind>("email");
  const [value, setValue] = useState("");
  const [confirmed, setConfirmed] = useState(false);
  const erase = useMutation({
    mutationFn: () => api<Erasure>(`/api/v1/sites/${site.id}/erasures`, { body: { [kind]: value.trim() } }),
    onSuccess: () => {
      setValue("");
      setConfirmed(false);
      queryClient.invalidateQueries({ queryKey: ["erasures", site.id] });
    },
  });
  return (
    <section aria-label="Erase" className="space-y-2">
      <h2 className="font-medium">Erase a visitor or person</h2>
      <p className="text-sm text-gray-600 dark:text-gray-400">
        An email or user id erases the person on every device they were identified on; a visitor id, one device.
        Their events and visits are deleted; their payments keep amount and date but lose email, customer id and visitor.
      </p>
      <form className="flex max-w-xl flex-wrap items-end gap-2" onSubmit={(e) => { e.preventDefault(); erase.mutate(); }}>
        <select aria-label="Erase by" value={kind} onChange={(e) => setKind(e.target.value as SelectorKind)}
          className="rounded-md border border-gray-300 bg-white px-2 py-2 text-sm dark:border-gray-700 dark:bg-gray-900">
          {SELECTORS.map(([id, label]) => <option key={id} value={id}>{label}</option>)}
        </select>
        <div className="min-w-48 flex-1">
          <Input label={SELECTORS.find(([id]) => id === kind)![1]} required value={value} onChange={(e) => setValue(e.target.value)} />
        </div>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} /> This cannot be undone
        </label>
        <Button type="submit" variant="danger" disabled={!confirmed || !value.trim() || erase.isPending}>Erase</Button>
      </form>
      {erase.data && (
        <p data-testid="erasure-result" className="text-sm">
          Erased {formatNumber(erase.data.visitors)} visitor(s): {formatNumber(erase.data.events)} events,{" "}
          {formatNumber(erase.data.visits)} visits; {formatNumber(erase.data.payments_scrubbed)} payment(s) kept without personal data.
        </p>
      )}
      <ErrorBox error={erase.error} />
    </section>
  );
}

const SELECTOR_NAMES: Record<string, string> = { email: "an email", user_id: "a user id", visitor_id: "a visitor id" };

/** The audit: who erased how much, and when; never whom. */
function Erasures({ site }: { site: Site }) {
  const erasures = useQuery({
    queryKey: ["erasures", site.id],
    queryFn: () => api<{ erasures: Erasure[] }>(`/api/v1/sites/${site.id}/erasures`),
  });
  if (erasures.error) return <ErrorBox error={erasures.error} />;
  if (!erasures.data) return <Spinner />;
  return (
    <section aria-label="Erasures" className="space-y-2">
      <h2 className="font-medium">Erasures</h2>
      {erasures.data.erasures.length === 0 ? <p className="text-sm text-gray-500">None yet.</p> : (
        <ul className="divide-y divide-gray-200 text-sm dark:divide-gray-800">
          {erasures.data.erasures.map((e) => (
            <li key={e.id} data-testid="erasure" className="py-2">
              {formatDateTime(e.erased_at, site.timezone)}: by {SELECTOR_NAMES[e.selector] ?? e.selector},{" "}
              {formatNumber(e.visitors)} visitor(s), {formatNumber(e.events)} events
              <span className="text-gray-500"> · {e.erased_by ?? "postmetric erase"}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function PrivacySettings({ site }: { site: Site }) {
  return <div className="max-w-2xl space-y-6"><Export site={site} /><Erase site={site} /><Erasures site={site} /></div>;
}
