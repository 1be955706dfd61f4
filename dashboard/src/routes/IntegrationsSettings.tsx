/** Settings → Integrations: GitHub, X and Search Console, each with its sync state, "Sync now" and "Disconnect". */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button, cx, ErrorBox, Spinner } from "../components/ui";
import { api, type Site } from "../lib/api";
import { FORMS } from "./integrations/forms";
import { statusLine, type Tone } from "./integrations/status";
import type { Integration } from "./integrations/types";

const TONES: Record<Tone, string> = {
  ok: "text-green-700 dark:text-green-400",
  warn: "text-amber-700 dark:text-amber-400",
  error: "text-red-700 dark:text-red-400",
  idle: "text-gray-600 dark:text-gray-400",
};

export function integrationsKey(siteId: string) {
  return ["integrations", siteId];
}

export function useIntegrations(siteId: string) {
  return useQuery({
    queryKey: integrationsKey(siteId),
    queryFn: () => api<{ integrations: Integration[] }>(`/api/v1/sites/${siteId}/integrations`),
  });
}

function IntegrationCard({ site, integration }: { site: Site; integration: Integration }) {
  const queryClient = useQueryClient();
  const [deleteData, setDeleteData] = useState(false);
  const path = `/api/v1/sites/${site.id}/integrations/${integration.kind}`;
  const refresh = (updated?: Integration) => {
    if (updated) {
      queryClient.setQueryData<{ integrations: Integration[] }>(integrationsKey(site.id), (old) => old && {
        integrations: old.integrations.map((i) => (i.kind === updated.kind ? updated : i)),
      });
    }
    queryClient.invalidateQueries({ queryKey: integrationsKey(site.id) });
    queryClient.invalidateQueries({ queryKey: ["annotations", site.id] });
  };
  const sync = useMutation({ mutationFn: () => api<Integration>(`${path}/sync`, { method: "POST" }), onSuccess: refresh });
  const disconnect = useMutation({
    mutationFn: () => api(`${path}?delete_data=${deleteData}`, { method: "DELETE" }),
    onSuccess: () => refresh(),
  });
  const status = statusLine(integration, new Date(), site.timezone);
  const Form = FORMS[integration.kind];
  return (
    <section className="space-y-3 rounded-lg border border-gray-200 p-4 dark:border-gray-700" data-integration={integration.kind}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 className="font-semibold">{integration.label}</h3>
        <span className={cx("text-sm", TONES[status.tone])} data-testid="integration-status">{status.text}</span>
      </div>
      {integration.message && integration.state !== "ok" && (
        <p className="rounded-md bg-gray-50 px-3 py-2 text-sm dark:bg-gray-800" data-testid="integration-message">{integration.message}</p>
      )}
      {Form ? <Form siteId={site.id} integration={integration} onSaved={refresh} />
        : <p className="text-sm text-gray-500">This integration has no settings form yet.</p>}
      {integration.connected && (
        <div className="flex flex-wrap items-center gap-3 border-t border-gray-100 pt-3 dark:border-gray-800">
          <Button type="button" variant="secondary" disabled={sync.isPending} onClick={() => sync.mutate()}>
            {sync.isPending ? "Syncing…" : "Sync now"}
          </Button>
          <Button type="button" variant="secondary" disabled={disconnect.isPending} onClick={() => disconnect.mutate()}>Disconnect</Button>
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={deleteData} onChange={(e) => setDeleteData(e.target.checked)} /> also delete what it synced
          </label>
        </div>
      )}
      <ErrorBox error={sync.error ?? disconnect.error} />
    </section>
  );
}

export function IntegrationsSettings({ site }: { site: Site }) {
  const integrations = useIntegrations(site.id);
  if (integrations.isPending) return <Spinner />;
  if (integrations.isError) return <ErrorBox error={integrations.error} />;
  return (
    <div className="space-y-4">
      <p className="text-sm text-gray-600 dark:text-gray-400">
        Synced in the background: commits, posts and search keywords appear on the chart and in the Sources panel.
      </p>
      {integrations.data.integrations.map((integration) => (
        <IntegrationCard key={integration.kind} site={site} integration={integration} />
      ))}
    </div>
  );
}
