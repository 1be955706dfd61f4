/**
 * Settings → Integrations → X: the search query (empty for the default, which is shown), the site's
 * @handle and the app's bearer token (write-only: typed, sent, cleared; the API only says whether one
 * is stored); and, for sites without a token, a post added by its URL.
 */
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { Button, ErrorBox, Input } from "../../components/ui";
import { useSiteQuery } from "../../hooks/queries";
import { api } from "../../lib/api";
import type { Integration } from "../IntegrationsSettings";

/** The query searched when the field is empty: as `default_query` in integrations/x.py builds it. */
export function defaultQuery(domain: string, handle: string): string {
  const terms = [`"${domain}"`, `url:"${domain}"`, ...(handle ? [`@${handle}`] : [])];
  return `(${terms.join(" OR ")}) -is:retweet`;
}

interface XConfig { query?: string | null; handle?: string | null }

interface AddedPost { time: string; author: string | null; url: string | null }

export function XForm({ siteId, integration, onSaved }: { siteId: string; integration: Integration; onSaved: (i: Integration) => void }) {
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
      <AddPostByUrl siteId={siteId} />
    </div>
  );
}

/** Without a token: a post's URL is enough, its time is in its id. */
function AddPostByUrl({ siteId }: { siteId: string }) {
  const [url, setUrl] = useState("");
  const add = useMutation({
    mutationFn: () => api<AddedPost>(`/api/v1/sites/${siteId}/integrations/x/posts`, { method: "POST", body: { url } }),
    onSuccess: () => setUrl(""),
  });
  return (
    <form className="space-y-2 border-t border-gray-200 pt-3 dark:border-gray-800" aria-label="Add a post by URL"
      onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
      <div className="flex items-end gap-2">
        <div className="grow">
          <Input label="Add a post by URL" value={url} onChange={(e) => setUrl(e.target.value)}
            placeholder="https://x.com/username/status/1234567890123456789" />
        </div>
        <Button type="submit" variant="secondary" disabled={add.isPending || !url.trim()}>Add post</Button>
      </div>
      <p className="text-xs text-gray-500 dark:text-gray-400">No token needed: the post is marked on the chart at the time its id carries.</p>
      <ErrorBox error={add.error} />
      {add.data ? (
        <p role="status" className="text-sm text-green-700 dark:text-green-400">
          Added {add.data.author ? `${add.data.author}'s post` : "the post"} of {new Date(add.data.time).toLocaleString()}.
        </p>
      ) : null}
    </form>
  );
}
