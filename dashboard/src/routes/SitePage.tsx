import { useParams } from "react-router";
import { ErrorBox, Spinner } from "../components/ui";
import { SiteDashboard } from "../dashboard/SiteDashboard";
import { useSiteQuery } from "../hooks/queries";

export default function SitePage() {
  const { siteId = "" } = useParams();
  const site = useSiteQuery(siteId);
  if (site.error) return <ErrorBox error={site.error} />;
  if (!site.data) return <Spinner />;
  return <SiteDashboard view={{ site: site.data, readOnly: false }} />;
}
