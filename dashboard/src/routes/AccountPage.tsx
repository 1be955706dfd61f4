/** Account settings: the account tokens (create, see when each was last used, revoke). */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button, Card, ErrorBox, Input, Spinner } from "../components/ui";
import { useSessionQuery } from "../hooks/queries";
import { api } from "../lib/api";
import { formatDateTime } from "../lib/format";

interface AccountToken {
  id: number; name: string; prefix: string; created_at: string; last_used_at: string | null; revoked_at: string | null;
}

const browserTimeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

function Tokens() {
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: ["tokens"], queryFn: () => api<{ tokens: AccountToken[] }>("/api/v1/tokens") });
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () => api<AccountToken & { token: string }>("/api/v1/tokens", { body: { name } }),
    onSuccess: () => { setName(""); queryClient.invalidateQueries({ queryKey: ["tokens"] }); },
  });
  const revoke = useMutation({
    mutationFn: (id: number) => api(`/api/v1/tokens/${id}`, { method: "DELETE" }),
    onSuccess: (_, id) => {
      if (create.data?.id === id) create.reset();  // no more "copy it now" for a revoked token
      queryClient.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const list = tokens.data?.tokens ?? [];
  return (
    <div className="space-y-3">
      <p className="text-sm text-gray-600 dark:text-gray-400">
        Account tokens manage every site you are a member of through the API (<code>Authorization: Bearer pmt_…</code>).
        Resetting your password revokes them all.
      </p>
      <form className="flex max-w-md items-end gap-2" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <div className="flex-1"><Input label="New token name" required value={name} onChange={(e) => setName(e.target.value)} /></div>
        <Button type="submit" disabled={create.isPending}>Create</Button>
      </form>
      {create.data && (
        <div className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-700 dark:bg-amber-950">
          Copy it now, it is shown only once: <code data-testid="new-token" className="break-all font-semibold">{create.data.token}</code>
        </div>
      )}
      <ErrorBox error={create.error ?? revoke.error ?? tokens.error} />
      {tokens.isPending ? <Spinner /> : list.length === 0 ? (
        <p className="text-sm text-gray-500">No account token yet.</p>
      ) : (
        <ul aria-label="Account tokens" className="divide-y divide-gray-200 text-sm dark:divide-gray-800">
          {list.map((token) => (
            <li key={token.id} data-testid="token" className="flex flex-wrap items-center justify-between gap-2 py-2">
              <span><strong>{token.name}</strong> <code>{token.prefix}…</code>{" "}
                <span className="text-gray-500">
                  created {formatDateTime(token.created_at, browserTimeZone)}
                  {token.last_used_at ? `, last used ${formatDateTime(token.last_used_at, browserTimeZone)}` : ", never used"}
                </span>
              </span>
              {token.revoked_at ? (
                <span className="text-gray-500">revoked {formatDateTime(token.revoked_at, browserTimeZone)}</span>
              ) : (
                <Button variant="secondary" className="py-1" aria-label={`Revoke ${token.name}`}
                  disabled={revoke.isPending} onClick={() => revoke.mutate(token.id)}>Revoke</Button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export default function AccountPage() {
  const session = useSessionQuery();
  return (
    <div className="space-y-4">
      <h1 className="text-xl font-semibold">Account</h1>
      <p className="text-sm text-gray-600 dark:text-gray-400">Logged in as {session.data?.user.email}.</p>
      <Card>
        <h2 className="mb-3 font-semibold">Account tokens</h2>
        <Tokens />
      </Card>
    </div>
  );
}
