/**
 * Settings → Revenue: one card per payment provider (SPEC §6) with the site's webhook URL, the
 * signing secret (set or replaced, never shown: the API only says whether one is set), the
 * events to enable at the provider, and the last delivery received.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button, ErrorBox, Input, Spinner } from "../components/ui";
import { api, type Site } from "../lib/api";
import { formatDateTime } from "../lib/format";

export interface RevenueProvider {
  provider: string;
  webhook_url: string;
  secret_set: boolean;
  last_delivery: { at: string; event_type: string; result: string } | null;
}

/** What the dashboard knows of each provider: its name, where its webhooks are set up, and the
 * events Postmetric reads (the webhook table of SPEC §6 and the README's Revenue providers). */
export const PROVIDERS: Record<string, { name: string; where: string; events: string[] }> = {
  stripe: {
    name: "Stripe", where: "Developers → Webhooks → Add destination; its signing secret starts whsec_",
    events: ["checkout.session.completed", "invoice.paid", "payment_intent.succeeded", "charge.refunded"],
  },
  lemonsqueezy: {
    name: "Lemon Squeezy", where: "Settings → Webhooks → +; the signing secret is the one you type there",
    events: ["order_created", "subscription_payment_success", "order_refunded", "subscription_payment_refunded"],
  },
  polar: { name: "Polar", where: "Settings → Webhooks → Add endpoint, format Raw", events: ["order.paid", "order.refunded"] },
  paddle: {
    name: "Paddle", where: "Developer tools → Notifications → New destination; its secret key starts pdl_ntfset_",
    events: ["transaction.completed", "adjustment.created", "adjustment.updated"],
  },
};

const revenueKey = (siteId: string) => ["revenue-settings", siteId];

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error("this browser gives no clipboard here");
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setError(null);
    } catch (e) {
      setError(`Copying failed (${(e as Error).message}): select the URL and copy it.`);
    }
  };
  return (
    <>
      <Button type="button" variant="secondary" className="shrink-0 py-1" onClick={copy}>{copied ? "Copied" : "Copy"}</Button>
      {error ? <div className="basis-full"><ErrorBox error={error} /></div> : null}
    </>
  );
}

function ProviderCard({ site, provider }: { site: Site; provider: RevenueProvider }) {
  const queryClient = useQueryClient();
  const known = PROVIDERS[provider.provider] ?? { name: provider.provider, where: "", events: [] };
  // The secret lives only in this input while it is typed; it is cleared once saved.
  const [secret, setSecret] = useState("");
  const save = useMutation({
    mutationFn: () => api<RevenueProvider>(`/api/v1/sites/${site.id}/revenue/${provider.provider}`,
                                           { method: "PUT", body: { webhook_secret: secret } }),
    onSuccess: (updated) => {
      setSecret("");
      queryClient.setQueryData<{ providers: RevenueProvider[] }>(revenueKey(site.id), (old) => old && {
        providers: old.providers.map((p) => (p.provider === updated.provider ? updated : p)),
      });
    },
  });
  const delivery = provider.last_delivery;
  return (
    <section aria-label={known.name} data-testid={`provider-${provider.provider}`}
      className="min-w-0 space-y-3 rounded-lg border border-gray-200 p-4 dark:border-gray-800">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 className="font-semibold">{known.name}</h2>
        <span className={provider.secret_set
          ? "rounded-full bg-green-100 px-2 py-0.5 text-xs font-medium text-green-800 dark:bg-green-950 dark:text-green-300"
          : "rounded-full bg-gray-100 px-2 py-0.5 text-xs font-medium text-gray-600 dark:bg-gray-800 dark:text-gray-300"}>
          {provider.secret_set ? "secret set" : "no secret yet"}
        </span>
      </div>
      <div className="text-sm">
        <p className="mb-1 font-medium text-gray-700 dark:text-gray-300">Webhook URL{known.where && <span className="font-normal text-gray-500 dark:text-gray-400"> (at {known.name}: {known.where})</span>}</p>
        <div className="flex flex-wrap items-center gap-2">
          <code data-testid="webhook-url" className="min-w-0 flex-1 break-all rounded-md bg-gray-100 px-2 py-1 text-xs dark:bg-gray-800">{provider.webhook_url}</code>
          <CopyButton text={provider.webhook_url} />
        </div>
      </div>
      {known.events.length > 0 && (
        <div className="text-sm">
          <p className="mb-1 font-medium text-gray-700 dark:text-gray-300">Events to enable</p>
          <ul className="flex flex-wrap gap-1">
            {known.events.map((event) => (
              <li key={event}><code className="rounded bg-indigo-50 px-1.5 py-0.5 text-xs text-indigo-900 dark:bg-indigo-950 dark:text-indigo-200">{event}</code></li>
            ))}
          </ul>
        </div>
      )}
      <form className="flex flex-wrap items-end gap-2" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <div className="min-w-48 flex-1">
          <Input label={provider.secret_set ? "Replace the signing secret" : "Signing secret"} type="password"
            autoComplete="new-password" value={secret} onChange={(e) => setSecret(e.target.value)}
            placeholder={provider.secret_set ? "•••••••• (set)" : `from ${known.name}`} />
        </div>
        <Button type="submit" disabled={!secret || save.isPending}>{provider.secret_set ? "Replace" : "Save"}</Button>
        {save.isSuccess && !secret && <span className="text-sm text-green-700 dark:text-green-400">Saved</span>}
      </form>
      <ErrorBox error={save.error} />
      <p className="text-sm text-gray-600 dark:text-gray-400" data-testid="last-delivery">
        {delivery
          ? <>Last delivery: {formatDateTime(delivery.at, site.timezone)} · <code>{delivery.event_type}</code> · {delivery.result}</>
          : "No delivery yet."}
      </p>
    </section>
  );
}

export function RevenueSettings({ site }: { site: Site }) {
  const providers = useQuery({
    queryKey: revenueKey(site.id),
    queryFn: () => api<{ providers: RevenueProvider[] }>(`/api/v1/sites/${site.id}/revenue`),
  });
  return (
    <div className="space-y-3">
      <p className="text-sm text-gray-600 dark:text-gray-400">
        Payments reach the dashboard through a webhook per provider, each signed with its own secret; or from your
        backend through the Payments API (<code>POST /api/v1/payments</code> with a site key).
      </p>
      <ErrorBox error={providers.error} />
      {providers.isPending ? <Spinner /> : (
        <div className="grid gap-3 lg:grid-cols-2">
          {providers.data?.providers.map((provider) => <ProviderCard key={provider.provider} site={site} provider={provider} />)}
        </div>
      )}
    </div>
  );
}
