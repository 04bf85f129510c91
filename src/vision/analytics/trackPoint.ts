/** A tracked person's foot point (bottom-centre of the box) in normalised image coordinates. */
export interface TrackPoint {
  trackId: number;
  x: number;
  y: number;
}

export interface LineCrossingEvent {
  type: 'line_crossing';
  line: string;
  direction: 'in' | 'out';
  timestampMs: number;
  trackId: number;
}

export interface ZoneVisitEvent {
  type: 'zone_visit';
  zone: string;
  enterMs: number;
  exitMs: number;
  dwellMs: number;
  /** False when the visit was shorter than the zone's min_dwell_s (a pass-through, reported for bounce rates). */
  counted: boolean;
  trackId: number;
}

export type AnalyticsEvent = LineCrossingEvent | ZoneVisitEvent;
