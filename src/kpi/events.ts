/**
 * The gateway's durable events: what cameras and sensors observed, with nothing that identifies a
 * person (no track ids, no images, no MAC addresses). Everything the KPIs need is derived from
 * these, so recomputing from the stored events always gives the same aggregates.
 */

interface EventBase {
  /** When it happened (ms since the epoch); a zone visit happens when it ends. */
  ts: number;
}

export interface LineCrossing extends EventBase {
  type: 'line_crossing';
  camera: string;
  line: string;
  direction: 'in' | 'out';
}

export interface ZoneVisit extends EventBase {
  type: 'zone_visit';
  camera: string;
  zone: string;
  enter_ts: number;
  dwell_ms: number;
  /** At least the zone's min_dwell_s; shorter visits are kept for bounce rates. */
  counted: boolean;
}

/** People through a door counter since its previous reading (already de-cumulated). */
export interface DoorCount extends EventBase {
  type: 'door_count';
  sensor: string;
  in: number;
  out: number;
}

export interface PosTransaction extends EventBase {
  type: 'pos_transaction';
  register: string;
  amount: number;
  currency?: string;
  items?: number;
}

export interface FeedbackVote extends EventBase {
  type: 'feedback_vote';
  terminal: string;
  zone?: string;
  /** 1 (worst) … scale (best). */
  score: number;
  scale: number;
}

/** A staff badge arriving in or leaving the store (the badge's configured alias, never its address). */
export interface StaffPresence extends EventBase {
  type: 'staff_presence';
  badge: string;
  present: boolean;
}

/** A configured BLE beacon (an asset, a display, a trolley) arriving or leaving, with its zone. */
export interface BeaconPresence extends EventBase {
  type: 'beacon_presence';
  beacon: string;
  zone?: string;
  present: boolean;
}

export interface SensorReading extends EventBase {
  type: 'sensor_reading';
  sensor: string;
  value: number;
  unit?: string;
}

/** A person crossed a line drawn on the floor plan: counted once over all cameras (src/fusion). */
export interface PlanLineCrossing extends EventBase {
  type: 'plan_line_crossing';
  line: string;
  direction: 'in' | 'out';
}

/** A person's visit of a zone drawn on the floor plan ended: counted once over all cameras (src/fusion). */
export interface PlanZoneVisit extends EventBase {
  type: 'plan_zone_visit';
  zone: string;
  enter_ts: number;
  dwell_ms: number;
  counted: boolean;
}

/** The source of store-level (plan) events, which no single camera produced. */
export const PLAN_SOURCE = 'plan';

export type StoreEvent = LineCrossing | ZoneVisit | DoorCount | PosTransaction | FeedbackVote | StaffPresence | BeaconPresence | SensorReading | PlanLineCrossing | PlanZoneVisit;
export type StoreEventType = StoreEvent['type'];

export const STORE_EVENT_TYPES: readonly StoreEventType[] = [
  'line_crossing',
  'zone_visit',
  'door_count',
  'pos_transaction',
  'feedback_vote',
  'staff_presence',
  'beacon_presence',
  'sensor_reading',
  'plan_line_crossing',
  'plan_zone_visit',
];

/** Which device produced the event: a camera or a sensor id. */
export function eventSource(event: StoreEvent): string {
  switch (event.type) {
    case 'line_crossing':
    case 'zone_visit':
      return event.camera;
    case 'door_count':
    case 'sensor_reading':
      return event.sensor;
    case 'pos_transaction':
      return event.register;
    case 'feedback_vote':
      return event.terminal;
    case 'staff_presence':
      return event.badge;
    case 'beacon_presence':
      return event.beacon;
    case 'plan_line_crossing':
    case 'plan_zone_visit':
      return PLAN_SOURCE;
  }
}

/** The line, zone or sensor an event is about (for filtering), if any. */
export function eventSubject(event: StoreEvent): string | undefined {
  switch (event.type) {
    case 'line_crossing':
    case 'plan_line_crossing':
      return event.line;
    case 'zone_visit':
    case 'plan_zone_visit':
      return event.zone;
    case 'feedback_vote':
    case 'beacon_presence':
      return event.zone;
    default:
      return undefined;
  }
}
