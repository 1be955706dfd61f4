/** Site settings: general, snippet, exclusions, data retention, goals, funnels, revenue, integrations, API keys, team, sharing, privacy, danger zone. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { Link, NavLink, useNavigate, useParams } from "react-router";
import { Button, Card, cx, ErrorBox, Input, Spinner } from "../components/ui";
import { useSiteQuery } from "../hooks/queries";
import { api, type Site } from "../lib/api";
import { formatDateTime } from "../lib/format";
import { Snippet, FirstEventCheck } from "./AddSitePage";
import { FunnelSettings } from "./FunnelSettings";
import { GoalSettings } from "./GoalSettings";
import { IntegrationsSettings } from "./IntegrationsSettings";
import { PrivacySettings } from "./PrivacySettings";
import { RevenueSettings } from "./RevenueSettings";

const SECTIONS = [
  ["general", "General"], ["snippet", "Snippet"], ["exclusions", "Exclusions"], ["retention", "Data retention"], ["goals", "Goals"], ["funnels", "Funnels"],
  ["revenue", "Revenue"], ["integrations", "Integrations"], ["keys", "API keys"],
  ["team", "Team"], ["sharing", "Sharing"], ["privacy", "Privacy"], ["danger", "Danger zone"],
] as const;

function Saved({ show }: { show: boolean }) {
  return show ? <span className="text-sm text-green-700 dark:text-green-400">Saved</span> : null;
}

function useSiteUpdate(site: Site) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (changes: Partial<Site>) => api<Site>(`/api/v1/sites/${site.id}`, { method: "PUT", body: changes }),
    onSuccess: (updated) => {
      queryClient.setQueryData(["site", site.id], updated);
      queryClient.invalidateQueries({ queryKey: ["sites"] });
    },
  });
}

function General({ site }: { site: Site }) {
  const [form, setForm] = useState({ name: site.name ?? "", domain: site.domain, timezone: site.timezone, currency: site.currency });
  const update = useSiteUpdate(site);
  return (
    <form className="max-w-md space-y-3" onSubmit={(e) => { e.preventDefault(); update.mutate(form); }}>
      {(["name", "domain", "timezone", "currency"] as const).map((field) => (
        <Input key={field} label={field[0].toUpperCase() + field.slice(1)} value={form[field]}
          onChange={(e) => setForm({ ...form, [field]: e.target.value })} />
      ))}
      <ErrorBox error={update.error} />
      <div className="flex items-center gap-3"><Button type="submit" disabled={update.isPending}>Save</Button><Saved show={update.isSuccess} /></div>
    </form>
  );
}

const LISTS = [
  ["excluded_paths", "Excluded paths (one per line, * wildcards)"],
  ["excluded_hostnames", "Excluded hostnames"],
  ["excluded_ips", "Excluded IP addresses or networks"],
  ["excluded_countries", "Excluded countries (ISO codes)"],
  ["allowed_hostnames", "Allowed hostnames (empty: the site's domain and its subdomains)"],
] as const;

function Exclusions({ site }: { site: Site }) {
  const [lists, setLists] = useState(Object.fromEntries(LISTS.map(([key]) => [key, (site[key] ?? []).join("\n")])));
  const [cookieless, setCookieless] = useState(Boolean(site.cookieless));
  const update = useSiteUpdate(site);
  const save = () => update.mutate({
    ...Object.fromEntries(LISTS.map(([key]) => [key, lists[key].split("\n").map((s) => s.trim()).filter(Boolean)])),
    cookieless,
  });
  return (
    <form className="max-w-xl space-y-3" onSubmit={(e) => { e.preventDefault(); save(); }}>
      {LISTS.map(([key, label]) => (
        <label key={key} className="block text-sm">
          <span className="mb-1 block font-medium">{label}</span>
          <textarea rows={3} value={lists[key]} onChange={(e) => setLists({ ...lists, [key]: e.target.value })}
            className="w-full rounded-md border border-gray-300 bg-white px-3 py-2 font-mono text-xs disabled:cursor-not-allowed disabled:bg-gray-100 disabled:text-gray-500 dark:border-gray-700 dark:bg-gray-900 dark:disabled:bg-gray-800" />
        </label>
      ))}
      <label className="flex items-center gap-2 text-sm"><input type="checkbox" checked={cookieless} onChange={(e) => setCookieless(e.target.checked)} /> Cookieless (visitors are a daily hash, no cookie is set)</label>
      <ErrorBox error={update.error} />
      <div className="flex items-center gap-3"><Button type="submit" disabled={update.isPending}>Save</Button><Saved show={update.isSuccess} /></div>
    </form>
  );
}

// The API's bounds for `retention_days` (sites/service.py): a month to ten years, or null for forever.
export const MIN_RETENTION_DAYS = 30;
export const MAX_RETENTION_DAYS = 3650;

/** The retention form as the API's body, or the form's own problem (named like the API's errors). */
export function retentionBody(keepForever: boolean, days: string): { body: { retention_days: number | null } } | { error: string } {
  if (keepForever) return { body: { retention_days: null } };
  const text = days.trim();
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < MIN_RETENTION_DAYS || value > MAX_RETENTION_DAYS) {
    return { error: `retention_days: a whole number of days from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}` };
  }
  return { body: { retention_days: value } };
}

function Retention({ site }: { site: Site }) {
  const [keepForever, setKeepForever] = useState(site.retention_days == null);
  const [days, setDays] = useState(String(site.retention_days ?? 365));
  const [problem, setProblem] = useState<string | null>(null);
  const update = useSiteUpdate(site);
  const save = () => {
    const parsed = retentionBody(keepForever, days);
    setProblem("error" in parsed ? parsed.error : null);
    if ("body" in parsed) update.mutate(parsed.body);
  };
  return (
    <form noValidate className="max-w-md space-y-3" onSubmit={(e) => { e.preventDefault(); save(); }}>
      <p className="text-sm text-gray-600 dark:text-gray-300">
        Now: {site.retention_days == null ? "visits are kept forever" : `visits older than ${site.retention_days} days are deleted`}.
        With a limit, older visits are deleted for good within the hour, with their events and identified people; payments stay,
        as they are the site's accounts.
      </p>
      <label className="flex items-center gap-2 text-sm">
        <input type="radio" name="retention" checked={keepForever} onChange={() => setKeepForever(true)} /> Keep visits forever
      </label>
      <label className="flex items-center gap-2 text-sm">
        <input type="radio" name="retention" checked={!keepForever} onChange={() => setKeepForever(false)} /> Delete visits older than a number of days
      </label>
      <Input label={`Days (${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS})`} type="number" inputMode="numeric" min={MIN_RETENTION_DAYS}
        max={MAX_RETENTION_DAYS} step={1} value={days} disabled={keepForever} onChange={(e) => setDays(e.target.value)} className="max-w-40" />
      <ErrorBox error={problem ?? update.error} />
      <div className="flex items-center gap-3"><Button type="submit" disabled={update.isPending}>Save</Button><Saved show={update.isSuccess && !problem} /></div>
    </form>
  );
}

interface Key { id: number; name: string; prefix: string; created_at: string; last_used_at: string | null; revoked_at: string | null }

function Keys({ site }: { site: Site }) {
  const queryClient = useQueryClient();
  const keys = useQuery({ queryKey: ["keys", site.id], queryFn: () => api<{ keys: Key[] }>(`/api/v1/sites/${site.id}/keys`) });
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () => api<Key & { key: string }>(`/api/v1/sites/${site.id}/keys`, { body: { name } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["keys", site.id] }),
  });
  const revoke = useMutation({
    mutationFn: (id: number) => api(`/api/v1/sites/${site.id}/keys/${id}`, { method: "DELETE" }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["keys", site.id] }),
  });
  return (
    <div className="space-y-3">
      <p className="text-sm text-gray-600 dark:text-gray-400">Site keys send server-side events and read this site's stats (<code>Authorization: Bearer pmk_…</code>).</p>
      <form className="flex max-w-md items-end gap-2" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <div className="flex-1"><Input label="New key name" value={name} onChange={(e) => setName(e.target.value)} /></div>
        <Button type="submit" disabled={create.isPending}>Create</Button>
      </form>
      {create.data && (
        <div className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-700 dark:bg-amber-950">
          Copy it now, it is shown only once: <code data-testid="new-key" className="break-all font-semibold">{create.data.key}</code>
        </div>
      )}
      <ErrorBox error={create.error ?? revoke.error ?? keys.error} />
      {keys.isPending ? <Spinner /> : (
        <ul className="divide-y divide-gray-200 text-sm dark:divide-gray-800">
          {keys.data?.keys.map((key) => (
            <li key={key.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <span><strong>{key.name || "unnamed"}</strong> <code>{key.prefix}…</code>{" "}
                <span className="text-gray-500">created {formatDateTime(key.created_at, site.timezone)}{key.last_used_at ? `, last used ${formatDateTime(key.last_used_at, site.timezone)}` : ""}</span></span>
              {key.revoked_at ? <span className="text-gray-500">revoked</span> : (
                <Button variant="secondary" className="py-1" onClick={() => revoke.mutate(key.id)}>Revoke</Button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

interface Members {
  members: { user_id: number; email: string; role: string }[];
  invitations: { id: number; email: string; role: string; expires_at: string }[];
}

function Team({ site }: { site: Site }) {
  const queryClient = useQueryClient();
  const members = useQuery({ queryKey: ["members", site.id], queryFn: () => api<Members>(`/api/v1/sites/${site.id}/members`) });
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("viewer");
  const invite = useMutation({
    mutationFn: () => api<{ emailed: boolean; url?: string }>(`/api/v1/sites/${site.id}/members`, { body: { email, role } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["members", site.id] }),
  });
  const remove = useMutation({
    mutationFn: (userId: number) => api(`/api/v1/sites/${site.id}/members/${userId}`, { method: "DELETE" }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["members", site.id] }),
  });
  return (
    <div className="space-y-3">
      <form className="flex max-w-xl flex-wrap items-end gap-2" onSubmit={(e) => { e.preventDefault(); invite.mutate(); }}>
        <div className="min-w-48 flex-1"><Input label="Invite by email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} /></div>
        <select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value)} className="rounded-md border border-gray-300 bg-white px-2 py-2 text-sm dark:border-gray-700 dark:bg-gray-900">
          <option value="viewer">viewer</option><option value="admin">admin</option><option value="owner">owner</option>
        </select>
        <Button type="submit" disabled={invite.isPending}>Invite</Button>
      </form>
      {invite.data && (invite.data.emailed ? <p className="text-sm">Invitation sent.</p> : (
        <p className="text-sm">No mail server is set up: send this link yourself: <code className="break-all">{invite.data.url}</code></p>
      ))}
      <ErrorBox error={invite.error ?? remove.error ?? members.error} />
      {members.isPending ? <Spinner /> : (
        <ul className="divide-y divide-gray-200 text-sm dark:divide-gray-800">
          {members.data?.members.map((m) => (
            <li key={m.user_id} className="flex items-center justify-between gap-2 py-2">
              <span>{m.email} <span className="text-gray-500">{m.role}</span></span>
              <Button variant="ghost" className="py-1" onClick={() => remove.mutate(m.user_id)}>Remove</Button>
            </li>
          ))}
          {members.data?.invitations.map((i) => (
            <li key={`i${i.id}`} className="py-2 text-gray-500">{i.email} ({i.role}), invited, until {formatDateTime(i.expires_at, site.timezone)}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

interface Sharing { enabled: boolean; url: string | null; has_password: boolean }

function SharingSection({ site }: { site: Site }) {
  const queryClient = useQueryClient();
  const sharing = useQuery({ queryKey: ["sharing", site.id], queryFn: () => api<Sharing>(`/api/v1/sites/${site.id}/sharing`) });
  const [password, setPassword] = useState("");
  const change = useMutation({
    mutationFn: (body: { enabled: boolean; password?: string | null }) =>
      api<Sharing>(`/api/v1/sites/${site.id}/sharing`, { method: "PUT", body }),
    onSuccess: (answer) => queryClient.setQueryData(["sharing", site.id], answer),
  });
  if (sharing.error) return <ErrorBox error={sharing.error} />;
  if (!sharing.data) return <Spinner />;
  return (
    <div className="max-w-xl space-y-3 text-sm">
      <label className="flex items-center gap-2">
        <input type="checkbox" checked={sharing.data.enabled} onChange={(e) => change.mutate({ enabled: e.target.checked })} />
        Anyone with the link can see this dashboard (read-only)
      </label>
      {sharing.data.enabled && sharing.data.url && (
        <>
          <p>Link: <a className="break-all text-indigo-600 underline dark:text-indigo-400" href={sharing.data.url}>{sharing.data.url}</a></p>
          <p>{sharing.data.has_password ? "A password protects it." : "No password."}</p>
          <form className="flex items-end gap-2" onSubmit={(e) => { e.preventDefault(); change.mutate({ enabled: true, password: password || null }); }}>
            <div className="flex-1"><Input label="Password (empty removes it)" type="password" value={password} onChange={(e) => setPassword(e.target.value)} /></div>
            <Button type="submit" disabled={change.isPending}>Set</Button>
          </form>
        </>
      )}
      <ErrorBox error={change.error} />
    </div>
  );
}

function Danger({ site }: { site: Site }) {
  const [typed, setTyped] = useState("");
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api(`/api/v1/sites/${site.id}`, { method: "DELETE" }),
    onSuccess: () => { queryClient.invalidateQueries({ queryKey: ["sites"] }); navigate("/sites"); },
  });
  return (
    <div className="max-w-md space-y-3 rounded-md border border-red-300 p-4 dark:border-red-800">
      <p className="text-sm">Deleting <strong>{site.domain}</strong> removes its settings and keys, and every event, visit, identified person and payment stored of it. It cannot be undone.</p>
      <Input label={`Type ${site.domain} to confirm`} value={typed} onChange={(e) => setTyped(e.target.value)} />
      <ErrorBox error={remove.error} />
      <Button variant="danger" disabled={typed !== site.domain || remove.isPending} onClick={() => remove.mutate()}>Delete this site</Button>
    </div>
  );
}

export default function SettingsPage() {
  const { siteId = "", section = "general" } = useParams();
  const site = useSiteQuery(siteId);
  if (site.error) return <ErrorBox error={site.error} />;
  if (!site.data) return <Spinner />;
  const viewer = site.data.role === "viewer";
  const body: Record<string, ReactNode> = {
    general: <General site={site.data} />,
    snippet: <><Snippet siteId={site.data.id} /><FirstEventCheck siteId={site.data.id} /></>,
    exclusions: <Exclusions site={site.data} />,
    retention: <Retention site={site.data} />,
    goals: <GoalSettings site={site.data} />,
    funnels: <FunnelSettings site={site.data} />,
    revenue: <RevenueSettings site={site.data} />,
    integrations: <IntegrationsSettings site={site.data} />,
    keys: <Keys site={site.data} />,
    team: <Team site={site.data} />,
    sharing: <SharingSection site={site.data} />,
    privacy: <PrivacySettings site={site.data} />,
    danger: <Danger site={site.data} />,
  };
  return (
    <div className="space-y-4">
      <div className="flex items-center justify-between">
        <h1 className="text-xl font-semibold">Settings · {site.data.domain}</h1>
        <Link className="text-sm text-indigo-600 dark:text-indigo-400" to={`/sites/${siteId}`}>Back to the dashboard</Link>
      </div>
      <div className="flex flex-col gap-4 md:flex-row">
        <nav className="flex flex-wrap gap-1 md:w-44 md:flex-col">
          {SECTIONS.map(([id, label]) => (
            <NavLink key={id} to={`/sites/${siteId}/settings/${id}`}
              className={() => cx("whitespace-nowrap rounded-md px-3 py-1.5 text-sm", id === section
                ? "bg-indigo-50 font-medium text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300"
                : "text-gray-600 hover:bg-gray-100 dark:text-gray-300 dark:hover:bg-gray-800")}>{label}</NavLink>
          ))}
        </nav>
        <Card className="min-w-0 flex-1">
          {viewer && (
            <p className="mb-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm dark:border-amber-700 dark:bg-amber-950">
              You are a viewer of this site: viewers cannot change settings. Ask an owner or an admin.
            </p>
          )}
          {/* Disabled, not hidden: a viewer still reads the settings; the API refuses changes anyway (403). */}
          <fieldset disabled={viewer} className="min-w-0">
            {body[section] ?? <ErrorBox error={`No settings section “${section}”.`} />}
          </fieldset>
        </Card>
      </div>
    </div>
  );
}
