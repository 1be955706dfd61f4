import { useEffect, useState } from "react";
import type { Realtime } from "../lib/api";

/** `GET /api/v1/realtime/stream` as Server-Sent Events; the session cookie goes along. */
export function useRealtimeStream(siteId: string): { data: Realtime | null; error: string | null } {
  const [data, setData] = useState<Realtime | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const source = new EventSource(`/api/v1/realtime/stream?site_id=${encodeURIComponent(siteId)}`,
                                   { withCredentials: true });
    source.addEventListener("realtime", (event) => {
      setData(JSON.parse((event as MessageEvent).data));
      setError(null);
    });
    source.addEventListener("error", (event) => {
      const message = (event as MessageEvent).data;
      setError(message ? `The live stream stopped: ${message}` : "The live stream is reconnecting…");
    });
    return () => source.close();
  }, [siteId]);
  return { data, error };
}
