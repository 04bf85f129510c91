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
