/** An integration as `GET /api/v1/sites/{id}/integrations` returns it (web/contract/integrations.py). */
export type IntegrationState =
  | "not_connected" | "pending" | "ok" | "error" | "rate_limited" | "token_rejected" | "forbidden" | "not_found";

export interface Integration {
  kind: string;
  label: string;
  connected: boolean;
  config: Record<string, unknown>;
  has_token: boolean;
  state: IntegrationState;
  message: string | null;
  summary: string | null;
  last_synced_at: string | null;
  last_attempt_at: string | null;
  next_sync_at: string | null;
}

/** What each provider's connect form gets (registered in forms.ts). */
export interface IntegrationFormProps {
  siteId: string;
  integration: Integration;
  onSaved: (integration: Integration) => void;
}
