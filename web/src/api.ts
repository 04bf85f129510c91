/** Calls to the gateway; the session cookie goes along by itself (same origin). */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

export async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: {} as Record<string, string>, credentials: 'same-origin' };
  if (body instanceof Blob) {
    init.body = body;
    (init.headers as Record<string, string>)['content-type'] = body.type;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const err = (data as { error?: { message?: string; details?: string[] } } | undefined)?.error;
    if (res.status === 401 && !url.startsWith('/ui/api/login')) location.hash = '#/login';
    throw new HttpError(res.status, err?.message ?? `${res.status} ${res.statusText}`, err?.details ?? []);
  }
  return data as T;
}

export const get = <T>(url: string) => api<T>('GET', url);
export const post = <T>(url: string, body?: unknown) => api<T>('POST', url, body ?? {});
export const put = <T>(url: string, body: unknown) => api<T>('PUT', url, body);
export const del = <T>(url: string) => api<T>('DELETE', url);

export interface User {
  username: string;
  role: 'installer' | 'viewer';
}

export interface SessionInfo {
  setup_needed: boolean;
  user: User | null;
  store_id: string;
}

export type P = [number, number];
export interface Line {
  name: string;
  points: [P, P];
  hysteresis?: number;
}
export interface Zone {
  name: string;
  polygon: P[];
  min_dwell_s?: number;
  queue?: boolean;
  [key: string]: unknown;
}
export interface LiveTrack {
  id: number;
  box: [number, number, number, number];
  confirmed: boolean;
}
export interface LiveState {
  id: string;
  name: string;
  state: string;
  fps: { input: number; processed: number } | null;
  frame: { width: number; height: number } | null;
  lines: Line[];
  zones: Zone[];
  counts: { lines: Record<string, { in: number; out: number }>; zones: Record<string, { occupancy: number; visits: number; passThroughs: number }> };
  tracks: LiveTrack[];
  calibration: { image_points: P[]; plan_points: P[]; error_m?: number } | null;
}
export interface HeatmapResponse {
  grid: { cols: number; rows: number; personSeconds: number[] } | null;
  plan: { cells: { x: number; y: number; value: number }[] } | null;
}
