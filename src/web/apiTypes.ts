/**
 * Shapes the web UI's API returns, shared by the server and the browser app (types only: this file
 * must import nothing, so the browser bundle can use it).
 */

export interface ValidationResult {
  id: string;
  camera: string;
  line: string;
  by: string;
  started_at: string;
  finished_at: string | null;
  manual: { in: number; out: number };
  automatic: { in: number; out: number };
  /** 1 − |automatic − manual| / manual per direction and overall (null without manual counts). */
  accuracy: { in: number | null; out: number | null; total: number | null };
}

/** A point on the floor plan: metres from its top-left corner. */
export type PlanPoint = [number, number];

/** GET /ui/api/plan/scene: what the plan page draws and edits. */
export interface PlanSceneResponse {
  floor_plan: { width_m: number; height_m: number; image?: string } | null;
  /** The size the page draws: the floor plan's, else what calibrations and plan items reach. */
  bounds: { width_m: number; height_m: number };
  lines: { name: string; points: [PlanPoint, PlanPoint]; hysteresis?: number }[];
  zones: { name: string; polygon: PlanPoint[]; min_dwell_s?: number; [key: string]: unknown }[];
  cameras: { id: string; name: string; enabled: boolean; calibrated: boolean; footprint: PlanPoint[]; error: string | null }[];
  fusion: {
    enabled: boolean;
    cameras: string[];
    people: number;
    counts: { lines: Record<string, { in: number; out: number }>; zones: Record<string, { visits: number }> } | null;
    occupancy: Record<string, number>;
  };
}

/** GET /ui/api/plan/kpis: store-level KPIs of the plan lines and zones (today by default). */
export interface PlanKpisResponse {
  time_zone: string;
  from: string;
  to: string;
  fusion: { enabled: boolean; people_now: number };
  lines: Record<string, { in: number; out: number }>;
  zones: Record<
    string,
    { visits: number; passes: number; dwell_mean_s: number | null; dwell_p50_s: number | null; dwell_p90_s: number | null; occupancy_max: number; occupancy_mean: number; occupancy_now: number | null }
  >;
}
