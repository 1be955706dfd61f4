/** Search Console's connect form: "Connect with Google" (when the server has an OAuth client) or a
 * service account key, then the property to sync, chosen from what Google says the connection may read. */
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Button, ErrorBox, Spinner } from "../../components/ui";
import type { components } from "../../generated/api";
import { api } from "../../lib/api";
import type { Integration, IntegrationFormProps } from "./types";

// The shapes of web/contract/search_console.py.
type OAuthSetup = components["schemas"]["GoogleOAuthSetup"];
type Properties = components["schemas"]["SearchConsoleProperties"];

const PERMISSIONS: Record<string, string> = {
  siteOwner: "owner", siteFullUser: "full user", siteRestrictedUser: "restricted user",
};

function PropertyChooser({ siteId, integration, onSaved }: IntegrationFormProps) {
  const current = (integration.config.property as string | null) ?? "";
  const [chosen, setChosen] = useState(current);
  const path = `/api/v1/sites/${siteId}/integrations/search_console`;
  const properties = useQuery({
    queryKey: ["search_console_properties", siteId, integration.config.auth, integration.config.client_email],
    queryFn: () => api<Properties>(`${path}/properties`),
  });
  const save = useMutation({
    mutationFn: () => api<Integration>(path, { method: "PUT", body: { property: chosen } }),
    onSuccess: onSaved,
  });
  if (properties.isPending) return <Spinner label="Asking Google for your properties…" />;
  if (properties.isError) return <ErrorBox error={properties.error} />;
  const list = properties.data.properties;
  return (
    <form className="space-y-2" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      {list.length === 0 ? (
        <p className="text-sm text-amber-700 dark:text-amber-400">
          This Google connection cannot read any Search Console property yet.
        </p>
      ) : (
        <label className="block text-sm">
          <span className="mb-1 block font-medium">Property</span>
          <select className="w-full max-w-md rounded-md border border-gray-300 bg-white px-2 py-1.5 dark:border-gray-600 dark:bg-gray-900"
            value={chosen} onChange={(e) => setChosen(e.target.value)} data-testid="search-console-property">
            <option value="" disabled>Choose a property…</option>
            {list.map((p) => (
              <option key={p.site_url} value={p.site_url}>
                {p.site_url} ({PERMISSIONS[p.permission_level] ?? p.permission_level})
              </option>
            ))}
          </select>
        </label>
      )}
      <ErrorBox error={save.error} />
      {list.length > 0 && (
        <Button type="submit" disabled={!chosen || chosen === current || save.isPending}>
          {current ? "Change property" : "Use this property"}
        </Button>
      )}
    </form>
  );
}

function ServiceAccountKey({ siteId, onSaved }: Omit<IntegrationFormProps, "integration">) {
  const [key, setKey] = useState("");
  const save = useMutation({
    mutationFn: () => api<Integration>(`/api/v1/sites/${siteId}/integrations/search_console`, {
      method: "PUT", body: { service_account_key: key },
    }),
    onSuccess: (saved) => { setKey(""); onSaved(saved); },
  });
  return (
    <form className="space-y-2" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <label className="block text-sm">
        <span className="mb-1 block font-medium">Service account key (JSON)</span>
        <textarea className="h-24 w-full rounded-md border border-gray-300 bg-white px-2 py-1.5 font-mono text-xs dark:border-gray-600 dark:bg-gray-900"
          value={key} onChange={(e) => setKey(e.target.value)} placeholder='{"type": "service_account", …}'
          data-testid="search-console-key" />
      </label>
      <p className="text-xs text-gray-500">
        Create the key in Google Cloud console (IAM → Service accounts → Keys), then add the service account's email
        as a user of the property in Search Console. The key is stored encrypted.
      </p>
      <ErrorBox error={save.error} />
      <Button type="submit" variant="secondary" disabled={!key.trim() || save.isPending}>Save key</Button>
    </form>
  );
}

export function SearchConsoleForm({ siteId, integration, onSaved }: IntegrationFormProps) {
  const setup = useQuery({
    queryKey: ["search_console_oauth", siteId],
    queryFn: () => api<OAuthSetup>(`/api/v1/sites/${siteId}/integrations/search_console/oauth`),
  });
  const connected = integration.connected && integration.has_token;
  const email = integration.config.client_email as string | undefined;
  const property = integration.config.property as string | null | undefined;
  return (
    <div className="space-y-4">
      {integration.connected && property && (
        <p className="text-sm" data-testid="search-console-current-property">Syncing the property <code>{property}</code>.</p>
      )}
      {connected && (
        <p className="text-sm text-gray-600 dark:text-gray-400">
          {integration.config.auth === "service_account"
            ? <>Connected with the service account <strong>{email}</strong>: add it as a user of the property in Search Console.</>
            : <>Connected with a Google account.</>}{" "}
          Syncs daily: the last 16 months at first, then the latest days (Google revises its last three).
        </p>
      )}
      {connected && <PropertyChooser siteId={siteId} integration={integration} onSaved={onSaved} />}
      <div className="space-y-2">
        {setup.isPending ? <Spinner /> : setup.isError ? <ErrorBox error={setup.error} /> : setup.data.configured ? (
          <a href={`/api/v1/sites/${siteId}/integrations/search_console/authorize`} data-testid="connect-google"
            className="inline-block rounded-md bg-blue-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-blue-700">
            {connected && integration.config.auth === "oauth" ? "Reconnect with Google" : "Connect with Google"}
          </a>
        ) : (
          <p className="text-sm text-gray-600 dark:text-gray-400" data-testid="google-not-configured">
            “Connect with Google” needs an OAuth client: create one (type “Web application”) in Google Cloud console,
            give it the redirect URI <code className="break-all">{setup.data.redirect_uri}</code>, and set{" "}
            <code>POSTMETRIC_GOOGLE_CLIENT_ID</code> and <code>POSTMETRIC_GOOGLE_CLIENT_SECRET</code> on this server.
            Or use a service account key:
          </p>
        )}
      </div>
      <details open={!connected && setup.data?.configured === false}>
        <summary className="cursor-pointer text-sm">
          {integration.config.auth === "service_account" ? "Replace the service account key" : "Use a service account key instead"}
        </summary>
        <div className="mt-2"><ServiceAccountKey siteId={siteId} onSaved={onSaved} /></div>
      </details>
    </div>
  );
}
