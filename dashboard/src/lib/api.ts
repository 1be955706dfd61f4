/**
 * The one place that talks HTTP: same-origin fetch with the session cookie, the CSRF header
 * on every change, and API errors turned into `ApiError` with the server's message.
 */

import type { components } from "../generated/api";

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
// Generated at build time from the server's OpenAPI document (src/generated/api.d.ts, made by
// `make` from `python -m postmetric.web.openapi`): a contract change that breaks a use here
// fails `npm run check`.

type Schemas = components["schemas"];

export type User = Schemas["User"];
export type SessionInfo = Schemas["SessionInfo"];
export type Site = Schemas["Site"];
export type StatsQuery = Schemas["Query"];
/** A metric name the server knows (postmetric.stats.registry.METRICS). */
export type Metric = StatsQuery["metrics"][number];
/** A dimension name: the registry's, or `event:props:<name>`. */
export type Dimension = NonNullable<StatsQuery["dimensions"]>[number];
/** A dimension filter, `[operator, dimension, values]` (the query also takes and/or/not groups). */
export type Filter = Extract<NonNullable<StatsQuery["filters"]>[number], { length: 3 }>;
export type StatsRow = Schemas["QueryRow"];
export type StatsResponse = Schemas["QueryResult"];
export type Realtime = Schemas["Realtime"];
export type Goal = Schemas["Goal"];
export type FunnelStep = Schemas["FunnelStep"];
export type Funnel = Schemas["Funnel"];
export type FunnelStepResult = Schemas["FunnelStepResult"];
export type FunnelResults = Schemas["FunnelResults"];
export type Payment = Schemas["Payment"];
export type VisitorSession = Schemas["VisitorSession"];
export type VisitorProfile = Schemas["VisitorProfile"];
/** A GitHub commit's or release's details, as its sync stores them (sizes null until fetched). */
export interface GitHubDetails {
  type: "commit" | "release"; sha?: string | null; tag?: string | null; additions?: number | null;
  deletions?: number | null;
}
/** A post's details, as the X sync stores them. */
export interface XDetails {
  post_id: string; username: string; name: string; profile_image_url?: string;
  likes: number; reposts: number; replies: number; impressions?: number;
}
/** An annotation; `details` as its kind's sync stores them (none for a note). */
export type Annotation = Omit<Schemas["Annotation"], "details"> & { details: GitHubDetails | XDetails | null };
export type AnnotationBody = Schemas["AnnotationBody"];
export type AroundImpact = Schemas["AroundImpact"];
export type PostImpact = Schemas["PostImpact"];
export type Mention = Omit<Schemas["Mention"], "annotation"> & { annotation: Annotation };
export type Mentions = Omit<Schemas["Mentions"], "mentions"> & { mentions: Mention[] };

export function queryStats(query: StatsQuery): Promise<StatsResponse> {
  return api<StatsResponse>("/api/v1/query", { body: query });
}
