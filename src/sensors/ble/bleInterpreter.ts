/**
 * Turns advertisements into store events, for allow-listed devices only: configured beacons
 * (presence in their zone), staff badges (staff presence), advertising sensors (readings) and
 * Eddystone telemetry. Anything else is answered `matched: false` and forgotten. Pure: no radio,
 * no clock of its own; the radio address is compared with the config in memory and never returned.
 */
import type { StoreEvent } from '../../kpi/events.js';
import type { AdvertSensorConfig, BleConfig } from '../sensorConfigSchema.js';
import { APPLE_COMPANY_ID, EDDYSTONE_SERVICE_UUID, parseEddystone, parseIBeacon, readField } from './advertisements.js';
import { PresenceTracker } from './presence.js';

export interface Advertisement {
  /** An opaque handle for the radio device (the BlueZ object path), kept in memory only. */
  device: string;
  address: string | undefined;
  rssi: number | undefined;
  /** The data came with this signal (not remembered from an earlier one): readings are new. */
  dataChanged: boolean;
  manufacturerData: ReadonlyMap<number, Uint8Array>;
  serviceData: ReadonlyMap<string, Uint8Array>;
}

type Target = { kind: 'beacon'; id: string; zone: string | undefined } | { kind: 'badge'; id: string };

const TELEMETRY_INTERVAL_MS = 60_000;

export class BleInterpreter {
  private readonly presence: PresenceTracker;
  /** Eddystone devices interleave UID and TLM frames: which beacon a device's TLM belongs to. */
  private readonly eddystoneDevices = new Map<string, string>();
  private readonly lastReading = new Map<string, number>();

  constructor(private readonly config: () => BleConfig) {
    this.presence = new PresenceTracker(() => this.config().presence);
  }

  advert(ad: Advertisement, now: number): { matched: boolean; events: StoreEvent[] } {
    const events: StoreEvent[] = [];
    const target = this.identify(ad);
    let matched = false;
    if (target) {
      matched = true;
      if (ad.rssi !== undefined) {
        const change = this.presence.observe(target.key, ad.rssi, now);
        if (change) events.push(this.presenceEvent(target.target, change.present, change.ts));
      }
      if (ad.dataChanged) events.push(...this.telemetry(ad, target.target.id, now));
    }
    for (const sensor of this.config().sensors) {
      const data = ad.manufacturerData.get(sensor.company_id);
      if (!data || !this.sensorMatches(sensor, ad.address, data)) continue;
      matched = true;
      if (ad.dataChanged) events.push(...this.sensorReadings(sensor, data, now));
    }
    return { matched, events };
  }

  /** Presence timeouts (call about once a second). */
  tick(now: number): StoreEvent[] {
    const events: StoreEvent[] = [];
    for (const change of this.presence.tick(now)) {
      const target = this.targets().get(change.key);
      if (target) events.push(this.presenceEvent(target, false, change.ts));
    }
    return events;
  }

  resume(now: number): void {
    this.presence.resume(now);
  }

  forgetDevice(device: string): void {
    this.eddystoneDevices.delete(device);
  }

  /** Configured beacon and badge ids present now. */
  present(): string[] {
    const targets = this.targets();
    return this.presence.present().flatMap((key) => (targets.has(key) ? [targets.get(key)!.id] : []));
  }

  private identify(ad: Advertisement): { key: string; target: Target } | undefined {
    const targets = this.targets();
    const apple = ad.manufacturerData.get(APPLE_COMPANY_ID);
    const ib = apple ? parseIBeacon(apple) : undefined;
    if (ib) {
      const key = `ib:${ib.uuid}:${ib.major}:${ib.minor}`;
      const target = targets.get(key);
      if (target) return { key, target };
    }
    const service = ad.serviceData.get(EDDYSTONE_SERVICE_UUID);
    const frame = service ? parseEddystone(service) : undefined;
    if (frame?.frame === 'uid') {
      const key = `es:${frame.namespace}:${frame.instance}`;
      const target = targets.get(key);
      if (target) {
        this.eddystoneDevices.set(ad.device, key);
        return { key, target };
      }
    }
    const known = this.eddystoneDevices.get(ad.device);
    if (known && targets.has(known)) return { key: known, target: targets.get(known)! };
    return undefined;
  }

  private telemetry(ad: Advertisement, id: string, now: number): StoreEvent[] {
    if (!this.config().telemetry) return [];
    const service = ad.serviceData.get(EDDYSTONE_SERVICE_UUID);
    const frame = service ? parseEddystone(service) : undefined;
    if (frame?.frame !== 'tlm' || !this.due(`${id}:tlm`, now, TELEMETRY_INTERVAL_MS)) return [];
    const events: StoreEvent[] = [];
    if (frame.batteryMv !== undefined) events.push({ type: 'sensor_reading', ts: now, sensor: `${id}.battery`, value: frame.batteryMv, unit: 'mV' });
    if (frame.temperatureC !== undefined) events.push({ type: 'sensor_reading', ts: now, sensor: `${id}.temperature`, value: frame.temperatureC, unit: '°C' });
    return events;
  }

  private sensorMatches(sensor: AdvertSensorConfig, address: string | undefined, data: Uint8Array): boolean {
    if (sensor.address !== undefined && sensor.address !== address?.toUpperCase()) return false;
    const prefix = sensor.data_prefix.toLowerCase();
    return Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, prefix.length / 2)).toString('hex') === prefix;
  }

  private sensorReadings(sensor: AdvertSensorConfig, data: Uint8Array, now: number): StoreEvent[] {
    if (!this.due(sensor.id, now, sensor.min_interval_s * 1000)) return [];
    const events: StoreEvent[] = [];
    for (const field of sensor.fields) {
      const value = readField(data, field.offset, field.type, field.scale);
      if (value === undefined) continue;
      const reading: StoreEvent = { type: 'sensor_reading', ts: now, sensor: `${sensor.id}.${field.name}`, value };
      if (field.unit !== undefined) reading.unit = field.unit;
      events.push(reading);
    }
    return events;
  }

  private due(key: string, now: number, intervalMs: number): boolean {
    const last = this.lastReading.get(key);
    if (last !== undefined && now - last < intervalMs) return false;
    this.lastReading.set(key, now);
    return true;
  }

  private presenceEvent(target: Target, present: boolean, ts: number): StoreEvent {
    if (target.kind === 'badge') return { type: 'staff_presence', ts, badge: target.id, present };
    const event: StoreEvent = { type: 'beacon_presence', ts, beacon: target.id, present };
    if (target.zone !== undefined) event.zone = target.zone;
    return event;
  }

  private cachedTargets: { config: BleConfig; map: Map<string, Target> } | undefined;

  /** Identity key → what it is, rebuilt when the config object changes (reload). */
  private targets(): Map<string, Target> {
    const config = this.config();
    if (this.cachedTargets?.config === config) return this.cachedTargets.map;
    const map = new Map<string, Target>();
    const keyOf = (b: { ibeacon?: { uuid: string; major: number; minor: number }; eddystone?: { namespace: string; instance: string } }): string =>
      b.ibeacon ? `ib:${b.ibeacon.uuid}:${b.ibeacon.major}:${b.ibeacon.minor}` : `es:${b.eddystone!.namespace}:${b.eddystone!.instance}`;
    for (const b of config.beacons) map.set(keyOf(b), { kind: 'beacon', id: b.id, zone: b.zone });
    for (const b of config.staff_badges) map.set(keyOf(b), { kind: 'badge', id: b.badge });
    this.cachedTargets = { config, map };
    return map;
  }
}
