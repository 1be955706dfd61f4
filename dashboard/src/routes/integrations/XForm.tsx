/**
 * Settings → Integrations → X: the search query (empty for the default, which is shown), the site's
 * @handle and the app's bearer token (write-only: typed, sent, cleared; the API only says whether one
 * is stored); and, for sites without a token, a post added by its URL.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button, ErrorBox, Input } from "../../components/ui";
import { useSiteQuery } from "../../hooks/queries";
import type { components } from "../../generated/api";
import { api } from "../../lib/api";
import { formatDateTime } from "../../lib/format";
import type { Integration, IntegrationFormProps } from "./types";

/** The query searched when the field is empty: as `default_query` in integrations/x.py builds it. */
export function defaultQuery(domain: string, handle: string): string {
  const terms = [`"${domain}"`, `url:"${domain}"`, ...(handle ? [`@${handle}`] : [])];
  return `(${terms.join(" OR ")}) -is:retweet`;
}

interface XConfig { query?: string | null; handle?: string | null }

type Annotation = components["schemas"]["Annotation"];

export function XForm({ siteId, integration, onSaved }: IntegrationFormProps) {
  const config = (integration.config ?? {}) as XConfig;
  const site = useSiteQuery(siteId);
  const [query, setQuery] = useState(config.query ?? "");
  const [handle, setHandle] = useState(config.handle ?? "");
  // The token lives only in this input while it is typed; it is cleared once saved.
  const [token, setToken] = useState("");
  const save = useMutation({
    mutationFn: () => api<Integration>(`/api/v1/sites/${siteId}/integrations/x`, {
      method: "PUT", body: { query, handle, ...(token ? { token } : {}) },
    }),
    onSuccess: (saved) => { setToken(""); onSaved(saved); },
  });
  const fallback = defaultQuery(site.data?.domain ?? "your-domain", handle.trim().replace(/^@/, ""));
  return (
    <div className="space-y-4">
      <form className="space-y-3" aria-label="Connect X" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Input label="Search query" value={query} onChange={(e) => setQuery(e.target.value)} placeholder={fallback}
          maxLength={512} />
        <p className="text-xs text-gray-500 dark:text-gray-400">
          Empty searches <code className="break-all">{fallback}</code>. Any query X's search operators allow, up to 512 characters.
        </p>
        <Input label="Handle (optional)" value={handle} onChange={(e) => setHandle(e.target.value)} placeholder="@yourhandle"
          maxLength={16} />
        <Input label="Bearer token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)}
          placeholder={integration.has_token ? "stored (leave empty to keep it)" : "AAAAAAAAAAAAAAAAAAAAA…"} />
        <p className="text-xs text-gray-500 dark:text-gray-400">
          In the X developer portal: your project → its app → Keys and tokens → Bearer Token. Recent search needs
          the Basic access level or above. The token is stored encrypted and never shown again.
        </p>
        <ErrorBox error={save.error} />
        <Button type="submit" disabled={save.isPending}>{integration.connected ? "Save" : "Connect X"}</Button>
      </form>
      <AddPostByUrl siteId={siteId} timeZone={site.data?.timezone ?? "UTC"} />
    </div>
  );
}

/** Without a token: a post's URL is enough, its time is in its id. */
function AddPostByUrl({ siteId, timeZone }: { siteId: string; timeZone: string }) {
  const queryClient = useQueryClient();
  const [url, setUrl] = useState("");
  const add = useMutation({
    mutationFn: () => api<Annotation>(`/api/v1/sites/${siteId}/integrations/x/posts`, { method: "POST", body: { url } }),
    onSuccess: () => {
      setUrl("");
      queryClient.invalidateQueries({ queryKey: ["annotations", siteId] });
    },
  });
  return (
    <form className="space-y-2 border-t border-gray-200 pt-3 dark:border-gray-800" aria-labelledby="x-add-post"
      onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
      <h4 id="x-add-post" className="text-sm font-semibold">Add a post by URL</h4>
      <p className="text-xs text-gray-500 dark:text-gray-400">
        No token needed: the post is marked on the chart at the time its id carries, its author taken from the link.
      </p>
      <div className="flex items-end gap-2">
        <div className="grow">
          <Input label="Post URL" value={url} onChange={(e) => setUrl(e.target.value)}
            placeholder="https://x.com/username/status/1234567890123456789" />
        </div>
        <Button type="submit" variant="secondary" disabled={add.isPending || !url.trim()}>Add post</Button>
      </div>
      <ErrorBox error={add.error} />
      {add.data ? (
        <p role="status" className="text-sm text-green-700 dark:text-green-400">
          Added {add.data.author ? `${add.data.author}'s post` : "the post"} of {formatDateTime(add.data.time, timeZone)}.
        </p>
      ) : null}
    </form>
  );
}
