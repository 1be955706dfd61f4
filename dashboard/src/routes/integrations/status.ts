/** What a card says of an integration's sync: "Synced 4 min ago", "Rate limited until 14:05", … */
import type { Integration } from "./types";

export function ago(iso: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

function clock(iso: string, timeZone: string): string {
  return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone });
}

export type Tone = "ok" | "warn" | "error" | "idle";

export function statusLine(integration: Integration, now: Date, timeZone: string): { text: string; tone: Tone } {
  const synced = integration.last_synced_at ? `last synced ${ago(integration.last_synced_at, now)}` : "never synced";
  switch (integration.state) {
    case "not_connected":
      return { text: "Not connected", tone: "idle" };
    case "pending":
      return { text: "Connected — the first sync runs within a minute", tone: "idle" };
    case "ok":
      return { text: `Synced ${ago(integration.last_synced_at ?? integration.last_attempt_at ?? new Date(0).toISOString(), now)}`
        + (integration.summary ? ` · ${integration.summary}` : ""), tone: "ok" };
    case "rate_limited":
      return { text: `Rate limited until ${integration.next_sync_at ? clock(integration.next_sync_at, timeZone) : "later"} · ${synced}`, tone: "warn" };
    case "error":
      return { text: `Failing — retried ${integration.next_sync_at ? `at ${clock(integration.next_sync_at, timeZone)}` : "later"} · ${synced}`, tone: "warn" };
    case "token_rejected":
      return { text: "Token rejected — reconnect", tone: "error" };
    case "forbidden":
      return { text: "Access denied — check the token's permissions", tone: "error" };
    case "not_found":
      return { text: "Not found — check the settings", tone: "error" };
  }
}
