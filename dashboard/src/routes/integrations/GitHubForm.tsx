/**
 * Settings → Integrations → GitHub: the connect form. A repository (`owner/name`), an optional
 * branch (the repository's default one otherwise) and an optional token, needed for private
 * repositories. The token is write-only: the API says only whether one is stored, and an empty
 * field keeps it.
 */
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { Button, ErrorBox, Input } from "../../components/ui";
import { api } from "../../lib/api";
import type { Integration, IntegrationFormProps } from "./types";

/** Where fine-grained tokens are made on github.com (an enterprise host has the same page). */
const NEW_TOKEN_URL = "https://github.com/settings/personal-access-tokens/new";

interface GitHubConfig { repository?: string; branch?: string | null }

export function GitHubForm({ siteId, integration, onSaved }: IntegrationFormProps) {
  const config = (integration.config ?? {}) as GitHubConfig;
  const [repository, setRepository] = useState(config.repository ?? "");
  const [branch, setBranch] = useState(config.branch ?? "");
  // The token lives only in this input while it is typed; it is cleared once saved.
  const [token, setToken] = useState("");
  const save = useMutation({
    mutationFn: () => api<Integration>(`/api/v1/sites/${siteId}/integrations/github`, {
      method: "PUT", body: { repository, branch: branch.trim() || null, ...(token.trim() ? { token } : {}) },
    }),
    onSuccess: (saved) => {
      setToken("");
      onSaved(saved);
    },
  });
  return (
    <form className="space-y-3" aria-label="Connect GitHub" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <div className="grid gap-3 sm:grid-cols-2">
        <Input label="Repository" name="repository" required placeholder="owner/name" value={repository}
          autoComplete="off" spellCheck={false} onChange={(e) => setRepository(e.target.value)} />
        <Input label="Branch (optional)" name="branch" placeholder="the default branch" value={branch}
          autoComplete="off" spellCheck={false} onChange={(e) => setBranch(e.target.value)} />
      </div>
      <Input label="Token (optional, for private repositories)" name="token" type="password"
        autoComplete="new-password" value={token} onChange={(e) => setToken(e.target.value)}
        placeholder={integration.has_token ? "a token is stored — leave empty to keep it" : "github_pat_…"} />
      <p className="text-xs text-gray-600 dark:text-gray-400">
        Create a fine-grained token at <a className="text-indigo-700 underline dark:text-indigo-300" href={NEW_TOKEN_URL}
          target="_blank" rel="noreferrer">GitHub → Settings → Developer settings → Fine-grained tokens</a>:
        repository access “Only select repositories” with this one, and under Repository permissions
        “Contents: Read-only” (Metadata: Read-only comes with it). A classic token needs the <code>repo</code> scope.
        It is stored encrypted and never shown again. Public repositories work without one, at GitHub’s lower
        rate limit.
      </p>
      <div className="flex items-center gap-2">
        <Button type="submit" disabled={!repository.trim() || save.isPending}>
          {integration.connected ? "Save" : "Connect"}
        </Button>
        {save.isSuccess && !token && <span className="text-sm text-green-700 dark:text-green-400">Saved</span>}
      </div>
      <ErrorBox error={save.error} />
    </form>
  );
}
