/**
 * Whether a beacon is here, from noisy RSSI samples: an exponential moving average, an enter
 * threshold above the exit threshold (hysteresis, so a beacon at the edge does not flap), and an
 * absence timeout. Pure: samples and ticks carry their time.
 */
import type { PresenceConfig } from '../sensorConfigSchema.js';

export interface PresenceChange {
  key: string;
  present: boolean;
  ts: number;
  /** Smoothed RSSI when it changed (dBm); undefined for a timeout. */
  rssi: number | undefined;
}

interface Track {
  smoothed: number;
  lastSeen: number;
  present: boolean;
}

export class PresenceTracker {
  private readonly tracks = new Map<string, Track>();

  constructor(private readonly config: () => PresenceConfig) {}

  observe(key: string, rssi: number, now: number): PresenceChange | undefined {
    const { smoothing, enter_rssi, exit_rssi } = this.config();
    let track = this.tracks.get(key);
    if (!track) {
      track = { smoothed: rssi, lastSeen: now, present: false };
      this.tracks.set(key, track);
    } else {
      track.smoothed = smoothing * rssi + (1 - smoothing) * track.smoothed;
      track.lastSeen = now;
    }
    if (!track.present && track.smoothed >= enter_rssi) {
      track.present = true;
      return { key, present: true, ts: now, rssi: Math.round(track.smoothed) };
    }
    if (track.present && track.smoothed < exit_rssi) {
      track.present = false;
      return { key, present: false, ts: now, rssi: Math.round(track.smoothed) };
    }
    return undefined;
  }

  /** Beacons not heard for absent_after_s have left. */
  tick(now: number): PresenceChange[] {
    const absentMs = this.config().absent_after_s * 1000;
    const changes: PresenceChange[] = [];
    for (const [key, track] of this.tracks) {
      if (now - track.lastSeen < absentMs) continue;
      if (track.present) changes.push({ key, present: false, ts: now, rssi: undefined });
      // Forgotten, so a returning beacon starts a fresh average.
      this.tracks.delete(key);
    }
    return changes;
  }

  /**
   * After the radio was away (adapter gone, bluetoothd restarted), silence says nothing about the
   * beacons: give every one a full absence period to be heard again.
   */
  resume(now: number): void {
    for (const track of this.tracks.values()) track.lastSeen = Math.max(track.lastSeen, now);
  }

  present(): string[] {
    return [...this.tracks].filter(([, t]) => t.present).map(([k]) => k);
  }
}
