/**
 * The one place that talks HTTP: same-origin fetch with the session cookie, the CSRF header
 * on every change, and API errors turned into `ApiError` with the server's message.
 */

let csrfToken: string | null = null;
let shareToken: string | null = null;

/** Set from `GET /api/v1/auth/session` or the login/signup answer. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Set by the shared dashboard: stats requests then carry `X-Postmetric-Share`. */
export function setShareToken(token: string | null): void {
  shareToken = token;
}

export class ApiError extends Error {
  constructor(public status: number, message: string, public body: unknown = null) {
    super(message);
    this.name = "ApiError";
  }
}

const CHANGES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export async function api<T = unknown>(path: string, options: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = options.method ?? (options.body === undefined ? "GET" : "POST");
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (CHANGES.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  if (shareToken) headers["X-Postmetric-Share"] = shareToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (error) {
    throw new ApiError(0, `The server could not be reached (${(error as Error).message}).`);
  }
  if (response.status === 204 || response.status === 202) {
    return (await response.text().then((text) => (text ? JSON.parse(text) : null))) as T;
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!response.ok) {
    const message =
      body && typeof body === "object" && "error" in body
        ? String((body as { error: unknown }).error)
        : `${response.status} ${response.statusText || "error"} from ${path}`;
    const retry = response.headers.get("Retry-After");
    throw new ApiError(response.status, retry ? `${message} (try again in ${retry} s)` : message, body);
  }
  return body as T;
}

/**
 * A file from a GET route, read as it streams in: `onProgress` gets the bytes received so far
 * (the export's size is not known before it ends). API errors become `ApiError` as in `api`.
 */
export async function download(path: string, onProgress: (bytes: number) => void): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: "same-origin" });
  } catch (error) {
    throw new ApiError(0, `The server could not be reached (${(error as Error).message}).`);
  }
  if (!response.ok) {
    const text = await response.text();
    let message = `${response.status} ${response.statusText || "error"} from ${path}`;
    try {
      message = String(JSON.parse(text).error ?? message);
    } catch { /* not JSON: the status says it */ }
    throw new ApiError(response.status, message);
  }
  const parts: BlobPart[] = [];
  let received = 0;
  const reader = response.body?.getReader();
  try {
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      received += value.byteLength;
      onProgress(received);
    }
  } catch (error) {
    throw new ApiError(0, `The download broke off after ${received} bytes (${(error as Error).message}).`);
  }
  if (!reader) parts.push(await response.blob());
  return new Blob(parts, { type: response.headers.get("Content-Type") ?? "application/octet-stream" });
}

// -- shapes of the API ---------------------------------------------------------------------

export interface User { id: number | string; email: string }
export interface SessionInfo { user: User; csrf_token: string }

export interface Site {
  id: string;
  domain: string;
  name: string | null;
  timezone: string;
  currency: string;
  role: string | null;
  allowed_hostnames?: string[] | null;
  excluded_ips?: string[] | null;
  excluded_countries?: string[] | null;
  excluded_hostnames?: string[] | null;
  excluded_paths?: string[] | null;
  cookieless?: boolean;
  retention_days?: number | null;
}

export type Filter = [string, string, string[]];

export interface StatsQuery {
  site_id: string;
  date_range: string | [string, string];
  metrics: string[];
  dimensions?: string[];
  filters?: Filter[];
  order_by?: [string, "asc" | "desc"][];
  include?: { comparison?: "previous_period" | null; time_labels?: boolean; total_rows?: boolean };
  pagination?: { limit: number; offset?: number };
  /** Which visit revenue counts for in `visit:*` rows; the server's default is first_touch. */
  attribution?: "first_touch" | "last_touch";
}

export interface StatsRow {
  dimensions: (string | null)[];
  metrics: (number | null)[];
  comparison?: { metrics: (number | null)[]; change: (number | null)[] };
}

export interface StatsResponse {
  results: StatsRow[];
  meta: { currency?: string; total_rows?: number; time_labels?: string[] };
  query: StatsQuery & { date_range: [string, string] };
}

export interface Realtime {
  site_id: string;
  at: string;
  window_seconds: number;
  visitors: number;
  pages: { page: string; visitors: number }[];
  sources: { source: string; visitors: number }[];
  countries: { country: string; visitors: number }[];
  /** Up to 20 visitors active in the window, newest first (their latest event's page, source, country). */
  recent_visitors?: { visitor_id: string; page: string; source: string; country: string; last_seen: string }[];
}

/** A goal definition (Sites API): a custom event by name, or a visit of pages matching a path pattern. */
export interface Goal {
  id: number | string;
  kind: "event" | "page";
  event_name: string | null;
  page_path: string | null;
  display_name: string;
}

export interface FunnelStep { type: "page" | "goal"; match: string; label: string | null }

export interface Funnel {
  id: number | string;
  site_id: string;
  name: string;
  steps: FunnelStep[];
  created_at: string;
  updated_at: string;
}

/** One step of a funnel's results; conversions are percentages (0–100), drop-off a visitor count. */
export interface FunnelStepResult extends FunnelStep {
  index: number;
  visitors: number;
  conversion_from_previous: number | null;
  conversion_from_first: number | null;
  drop_off: number | null;
  median_seconds_to_next: number | null;
}

export interface FunnelResults {
  funnel: Funnel;
  date_range: { start: string; end: string };
  steps: FunnelStepResult[];
  breakdown?: { value: string | null; steps: FunnelStepResult[] }[];
}

/** A payment of the ledger as the API shows it: amounts in major units as decimal strings. */
export interface Payment {
  transaction_id: string;
  provider: string;
  kind: string;
  amount: string;
  currency: string;
  reporting_amount?: string | null;
  reporting_currency?: string | null;
  timestamp: string;
  customer_id: string | null;
  email: string | null;
  visitor_id?: string | null;
  session_id: string | null;
}

export interface VisitorSession {
  session_id: string;
  started_at: string;
  ended_at: string;
  duration: number;
  entry_page: string;
  exit_page: string;
  pageviews: number;
  source: string;
  channel: string;
  country: string;
  device: string;
}

/** `GET /api/v1/visitors/{id}`: one visitor's profile and journey (stats/visitors.py). */
export interface VisitorProfile {
  visitor_id: string;
  first_seen: string;
  last_seen: string;
  identity: { user_id: string | null; email: string | null; name: string | null; props: Record<string, unknown>; identified_at: string } | null;
  geo: { country: string; region: string; city: string };
  device: { type: string; browser: string; browser_version: string; os: string; os_version: string; viewport: { width: number; height: number } | null };
  first_touch: Record<string, string> & { click_ids?: Record<string, string> };
  totals: { visits: number; pageviews: number; goals: number };
  sessions: VisitorSession[];
  pages: { page: string; hostname: string; title: string; timestamp: string; session_id: string }[];
  goals: { name: string; timestamp: string; page: string; props: Record<string, unknown> }[];
  payments: Payment[];
  truncated: boolean;
  /** Who the visitor is across devices: the key of their identity ("user:…", "email:…", null when
   * never identified) and every visitor of the site with it (payments are theirs all). */
  person?: { key: string | null; visitor_ids: string[] } | null;
}

export function queryStats(query: StatsQuery): Promise<StatsResponse> {
  return api<StatsResponse>("/api/v1/query", { body: query });
}
