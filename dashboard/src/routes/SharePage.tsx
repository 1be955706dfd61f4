/** `/share/{token}`: the read-only dashboard of a shared site; a password unlocks it if set. */
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useParams } from "react-router";
import { Shell } from "../components/Layout";
import { Button, Card, ErrorBox, Input, Spinner } from "../components/ui";
import { type DashboardSite } from "../dashboard/SiteContext";
import { SiteDashboard } from "../dashboard/SiteDashboard";
import { api, setShareToken } from "../lib/api";

export default function SharePage() {
  const { token = "" } = useParams();
  // During render, not in an effect: the panels' queries start in their own effects, which
  // run before this component's.
  setShareToken(token);
  const [unlocked, setUnlocked] = useState(false);
  const [password, setPassword] = useState("");
  const info = useQuery({
    queryKey: ["share", token],
    queryFn: () => api<{ site: DashboardSite; has_password: boolean }>(`/api/v1/share/${encodeURIComponent(token)}`),
    retry: false,
  });
  const unlock = useMutation({
    mutationFn: () => api(`/api/v1/share/${encodeURIComponent(token)}/unlock`, { body: { password } }),
    onSuccess: () => setUnlocked(true),
  });
  if (info.error) return <Shell><ErrorBox error={info.error} /></Shell>;
  if (!info.data) return <Shell><Spinner /></Shell>;
  if (info.data.has_password && !unlocked) {
    return (
      <Shell>
        <Card className="mx-auto max-w-sm">
          <h1 className="mb-3 text-lg font-semibold">{info.data.site.domain} is password protected</h1>
          <form className="space-y-3" onSubmit={(e) => { e.preventDefault(); unlock.mutate(); }}>
            <Input label="Password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
            <ErrorBox error={unlock.error} />
            <Button type="submit" disabled={unlock.isPending}>View the dashboard</Button>
          </form>
        </Card>
      </Shell>
    );
  }
  return <Shell><SiteDashboard view={{ site: info.data.site, readOnly: true }} /></Shell>;
}
