/**
 * Multi-camera fusion on the floor plan: per-camera tracks (already in metres, planMapping.ts)
 * become store-level tracks, so that one person seen by two cameras is one track.
 *
 * - Association: a camera track not yet linked is matched (Hungarian, src/vision/tracking/
 *   linearAssignment.ts) to the store tracks this camera does not already see, by distance in
 *   metres at the same moment, within `gateM` (wider for cut-off boxes, whose foot point is uncertain).
 * - Hysteresis: once linked, a camera track stays with its store track while its camera keeps it;
 *   only a sustained disagreement (further than `breakGateM` for `breakAfterMs`) splits it off,
 *   and the split-off sighting is associated afresh. A camera track that comes back after a gap
 *   where its person cannot be (trackers hand a lost id on to whoever starts where it was last
 *   seen) is associated afresh at once.
 * - Hand-over: a store track nobody sees any more may be continued, for `handoverMs`, by another
 *   camera's new track that appears where the person can have walked to (`handoverSpeedMps`):
 *   neighbouring cameras that do not overlap.
 * - Late merge: two store tracks that only different cameras see and that stay within gateM / 2 for
 *   `mergeAfterMs` were one person whose association failed at first (both tracks born cut off).
 * - Fused position: inverse-variance weighted mean of the cameras' fresh sightings, each camera's
 *   learnt offset taken out, so the track does not jump when a camera starts or stops seeing the person.
 * - Decision delay: fused positions are released `decisionDelayMs` late; a late merge or split redoes
 *   what is still held back from the cameras' recent sightings, so store-level counters see the
 *   corrected tracks from the start of that window (redone positions are plain weighted means).
 *
 * Pure: no I/O, no clock of its own — every call carries its time (frame times from the cameras,
 * a tick time from the caller's injected clock). Store track ids are internal numbers that never
 * leave the gateway (no track ids upstream).
 */
import { solveAssignment } from '../vision/tracking/linearAssignment.js';
import type { FusionConfig } from './planConfigSchema.js';
import type { PlanObservation } from './planMapping.js';

export interface FusionOptions {
  gateM: number;
  breakGateM: number;
  breakAfterMs: number;
  mergeAfterMs: number;
  staleMs: number;
  handoverMs: number;
  handoverSpeedMps: number;
  decisionDelayMs: number;
  /** A camera track unseen this long is unlinked: its tracker has dropped it (ByteTracker keeps lost tracks 1.5 s). */
  linkTimeoutMs: number;
}

export function fusionOptions(config: FusionConfig): FusionOptions {
  return {
    gateM: config.gate_m,
    breakGateM: config.break_gate_m,
    breakAfterMs: config.break_after_s * 1000,
    mergeAfterMs: config.merge_after_s * 1000,
    staleMs: config.stale_s * 1000,
    handoverMs: config.handover_s * 1000,
    handoverSpeedMps: config.handover_speed_mps,
    decisionDelayMs: config.decision_delay_s * 1000,
    linkTimeoutMs: 3000,
  };
}

/** One camera frame's tracks on the plan. */
export interface CameraTrackFrame {
  cameraId: string;
  tMs: number;
  observations: readonly PlanObservation[];
}

export interface FusedPosition {
  storeTrackId: number;
  x: number;
  y: number;
  /** How many cameras contributed. */
  cameras: number;
}

/** Every store track's fused position at one moment. */
export interface FusedTick {
  tMs: number;
  positions: FusedPosition[];
}

/** What the journey analytics (src/analytics/journeys) consume: one fused position of one store track. */
export interface PlanTrackSample {
  trackId: string;
  tMs: number;
  x: number;
  y: number;
}

export interface FusionStats {
  storeTracks: number;
  /** Camera tracks linked to a store track another camera already saw. */
  associations: number;
  handovers: number;
  merges: number;
  breaks: number;
  /** Camera tracks that came back after a gap where their store track's person was not, and were associated afresh. */
  reassigned: number;
  /** Input left out: a frame older than the camera's previous one, a position or uncertainty that is not a finite number. */
  refused: { outOfOrder: number; notFinite: number };
}

interface Sighting {
  tMs: number;
  x: number;
  y: number;
  sigmaM: number;
}

/** One camera track linked to a store track: its latest sighting, and the recent ones. */
interface Member extends Sighting {
  key: string;
  cameraId: string;
  localTrackId: number;
  /** This camera's offset from the fused position (its calibration and box bias), eased in and out. */
  ox: number;
  oy: number;
  linkedAtMs: number;
  farSinceMs: number | undefined;
  /** Sightings still covering held-back ticks, so a late split or merge can redo them. */
  history: Sighting[];
}

interface StoreTrack {
  id: number;
  bornMs: number;
  members: Map<string, Member>;
  x: number;
  y: number;
  vx: number;
  vy: number;
  /** Last time any camera saw it. */
  lastSeenMs: number;
  /** Cameras that saw it last, for hand-over (only another camera may take a track over). */
  lastCameras: Set<string>;
}

/** Velocity smoothing: half new, half old, so one jittery frame does not throw hand-over predictions. */
const VELOCITY_SMOOTHING = 0.5;
/** Time constant (s) over which a camera's offset from the fused position is learnt or forgotten. */
const OFFSET_EASE_S = 1;
/**
 * A camera track unseen for more than this many of its camera's frame intervals has been lost by its
 * tracker and is checked on its return (measured on the vtest split: checking only after staleMs
 * lets a handed-on id drag its store track at 5 fps, where a tracker's gap is 2 frames).
 */
const MISSED_FRAME_INTERVALS = 1.5;
/** Hand-over candidates cost more than any live association, so a live match always wins. */
const HANDOVER_COST_OFFSET = 1;

const memberKey = (cameraId: string, localTrackId: number): string => `${cameraId}\u0000${localTrackId}`;

export class StoreFuser {
  private readonly tracks = new Map<number, StoreTrack>();
  private readonly links = new Map<string, StoreTrack>();
  /** Pairs of store tracks that have been close since (ms), keyed "lowId:highId". */
  private readonly closePairs = new Map<string, number>();
  private readonly held: FusedTick[] = [];
  private lastReleasedMs = -Infinity;
  private nextId = 1;
  readonly stats: FusionStats = { storeTracks: 0, associations: 0, handovers: 0, merges: 0, breaks: 0, reassigned: 0, refused: { outOfOrder: 0, notFinite: 0 } };
  /** Each camera's latest frame time: an older frame (a late delivery) would rewrite history backwards. */
  private readonly cameraFrameMs = new Map<string, number>();
  private readonly cameraIntervalMs = new Map<string, number>();

  constructor(readonly options: FusionOptions) {}

  /**
   * Feeds one camera frame. Cameras may interleave; a camera's frame older than its previous one is
   * refused whole, and so is a sighting whose position or uncertainty is not a finite number
   * (counted in `stats.refused`; the caller logs).
   */
  ingest(frame: CameraTrackFrame): void {
    const { cameraId, tMs } = frame;
    if (!Number.isFinite(tMs) || tMs < (this.cameraFrameMs.get(cameraId) ?? -Infinity)) {
      this.stats.refused.outOfOrder += 1;
      return;
    }
    const previousMs = this.cameraFrameMs.get(cameraId);
    // The camera's frame interval, following a slower rate only gradually (one late frame is not a
    // new rate): a member unseen for more than 1.5 intervals has missed a frame (returnsElsewhere).
    if (previousMs !== undefined && tMs > previousMs) {
      const interval = tMs - previousMs;
      const known = this.cameraIntervalMs.get(cameraId);
      this.cameraIntervalMs.set(cameraId, known === undefined ? interval : Math.min(interval, 0.9 * known + 0.1 * interval));
    }
    this.cameraFrameMs.set(cameraId, tMs);
    const touched = new Set<StoreTrack>();
    const unlinked: PlanObservation[] = [];
    for (const o of frame.observations) {
      if (!Number.isFinite(o.x) || !Number.isFinite(o.y) || !(o.sigmaM > 0) || !Number.isFinite(o.sigmaM)) {
        this.stats.refused.notFinite += 1;
        continue;
      }
      const key = memberKey(cameraId, o.localTrackId);
      const track = this.links.get(key);
      const member = track?.members.get(key);
      if (!track || !member) {
        unlinked.push(o);
        continue;
      }
      if (this.returnsElsewhere(track, member, o, tMs)) {
        // The camera's tracker lost this id and gave it back somewhere its person cannot be: most
        // likely someone else (a tracker carries an id over to a new track that starts where a lost
        // one was last seen). The sighting is associated afresh instead of dragging the track there.
        track.members.delete(key);
        this.links.delete(key);
        this.stats.reassigned += 1;
        unlinked.push(o);
        continue;
      }
      Object.assign(member, { x: o.x, y: o.y, sigmaM: o.sigmaM, tMs });
      member.history.push({ tMs, x: o.x, y: o.y, sigmaM: o.sigmaM });
      const keepFrom = tMs - this.options.decisionDelayMs - this.options.staleMs;
      while (member.history.length > 1 && member.history[0]!.tMs < keepFrom) member.history.shift();
      touched.add(track);
    }
    for (const track of this.associate(cameraId, tMs, unlinked)) touched.add(track);
    for (const track of touched) this.refresh(track, tMs);
    for (const track of touched) this.checkBreak(track, tMs);
    this.checkMerges(tMs);
    this.expire(tMs);
  }

  /**
   * Samples every visible store track at `tMs` (call it on a steady tick from an injected clock)
   * and returns the ticks whose decisions are now final, i.e. at least decisionDelayMs old.
   */
  tick(tMs: number): FusedTick[] {
    // Ticks must move forward: a repeated or earlier one would disorder what the counters see.
    const last = this.held[this.held.length - 1]?.tMs ?? this.lastReleasedMs;
    if (!(tMs > last)) return [];
    const positions: FusedPosition[] = [];
    for (const track of this.tracks.values()) {
      if (tMs - track.lastSeenMs > this.options.staleMs) continue;
      const dt = Math.max(0, tMs - track.lastSeenMs) / 1000;
      positions.push({ storeTrackId: track.id, x: track.x + track.vx * dt, y: track.y + track.vy * dt, cameras: this.freshMembers(track, tMs).length || 1 });
    }
    this.held.push({ tMs, positions });
    let release = 0;
    while (release < this.held.length && this.held[release]!.tMs <= tMs - this.options.decisionDelayMs) release += 1;
    const released = this.held.splice(0, release);
    if (released.length) this.lastReleasedMs = released[released.length - 1]!.tMs;
    return released;
  }

  /** Releases everything held back (end of a recording, shutdown). */
  flush(): FusedTick[] {
    const released = this.held.splice(0);
    if (released.length) this.lastReleasedMs = released[released.length - 1]!.tMs;
    return released;
  }

  /** Store tracks seen within staleMs of `tMs`: the people on the floor right now. */
  visibleCount(tMs: number): number {
    let n = 0;
    for (const t of this.tracks.values()) if (tMs - t.lastSeenMs <= this.options.staleMs) n += 1;
    return n;
  }

  private associate(cameraId: string, tMs: number, unlinked: readonly (PlanObservation & { history?: Sighting[] })[]): StoreTrack[] {
    if (unlinked.length === 0) return [];
    const o = this.options;
    // Joinable: people another camera sees now and this one does not (a member in this camera's
    // current frame means a second track of one camera: another person, or the tracker's duplicate),
    // and people nobody sees any more whom another camera saw last (hand-over). A track only this
    // camera saw is never rejoined by it: re-identification within a camera is its tracker's job.
    const candidates = [...this.tracks.values()].filter((t) => {
      let seenByOther = false;
      for (const m of t.members.values()) {
        if (m.cameraId === cameraId && m.tMs === tMs) return false;
        if (m.cameraId !== cameraId && tMs - m.tMs <= o.staleMs) seenByOther = true;
      }
      return seenByOther || tMs - t.lastSeenMs > o.staleMs;
    });
    const cost = unlinked.map((obs) =>
      candidates.map((t) => {
        const gap = Math.max(0, tMs - t.lastSeenMs);
        const px = t.x + t.vx * (Math.min(gap, o.staleMs) / 1000);
        const py = t.y + t.vy * (Math.min(gap, o.staleMs) / 1000);
        const d = Math.hypot(obs.x - px, obs.y - py);
        if (gap <= o.staleMs) {
          const gate = o.gateM + Math.min(obs.sigmaM, o.gateM);
          return d <= gate ? d / gate : Infinity;
        }
        if (gap > o.handoverMs || t.lastCameras.has(cameraId)) return Infinity;
        const reach = o.gateM + o.handoverSpeedMps * (gap / 1000);
        const fromLast = Math.hypot(obs.x - t.x, obs.y - t.y);
        return fromLast <= reach ? HANDOVER_COST_OFFSET + fromLast / reach : Infinity;
      }),
    );
    const touched: StoreTrack[] = [];
    const matched = new Set<number>();
    for (const [row, col] of solveAssignment(cost, 2 * HANDOVER_COST_OFFSET)) {
      const track = candidates[col]!;
      if (cost[row]![col]! >= HANDOVER_COST_OFFSET) this.stats.handovers += 1;
      else this.stats.associations += 1;
      this.link(track, cameraId, unlinked[row]!, tMs);
      matched.add(row);
      touched.push(track);
    }
    unlinked.forEach((obs, row) => {
      if (matched.has(row)) return;
      const track = this.newTrack(tMs, obs.x, obs.y);
      this.link(track, cameraId, obs, tMs);
      touched.push(track);
    });
    return touched;
  }

  private newTrack(tMs: number, x: number, y: number): StoreTrack {
    const track: StoreTrack = { id: this.nextId++, bornMs: tMs, members: new Map(), x, y, vx: 0, vy: 0, lastSeenMs: tMs, lastCameras: new Set() };
    this.tracks.set(track.id, track);
    this.stats.storeTracks += 1;
    return track;
  }

  private link(track: StoreTrack, cameraId: string, obs: PlanObservation & { history?: Sighting[] }, tMs: number): void {
    const key = memberKey(cameraId, obs.localTrackId);
    const sighting = { tMs, x: obs.x, y: obs.y, sigmaM: obs.sigmaM };
    // A camera joining starts from where the track is, so its own bias does not make the track jump.
    const joins = track.members.size > 0;
    const ox = joins ? obs.x - track.x : 0;
    const oy = joins ? obs.y - track.y : 0;
    track.members.set(key, { key, cameraId, localTrackId: obs.localTrackId, ...sighting, ox, oy, linkedAtMs: tMs, farSinceMs: undefined, history: obs.history ?? [sighting] });
    this.links.set(key, track);
  }

  private freshMembers(track: StoreTrack, tMs: number): Member[] {
    return [...track.members.values()].filter((m) => tMs - m.tMs <= this.options.staleMs);
  }

  /**
   * New fused position from the fresh sightings, each moved on by the track's velocity to `tMs`.
   *
   * Each camera sees a person a little off (calibration, box bias: 0.2–0.7 m between the vtest
   * crops). Fusing raw positions, the track would jump by that much whenever a camera starts or stops
   * seeing the person — enough to cross a line or leave a zone. So each camera's offset from the
   * inverse-variance mean is learnt and taken out, easing in and out over OFFSET_EASE_S: the fused
   * track glides to where the cameras now put it.
   */
  private refresh(track: StoreTrack, tMs: number): void {
    const fresh = this.freshMembers(track, tMs);
    if (fresh.length === 0) return;
    const now = fresh.map((m) => {
      const dt = (tMs - m.tMs) / 1000;
      return { m, w: 1 / (m.sigmaM * m.sigmaM + 1e-6), x: m.x + track.vx * dt, y: m.y + track.vy * dt };
    });
    const wsum = now.reduce((s, p) => s + p.w, 0);
    const meanX = now.reduce((s, p) => s + p.w * p.x, 0) / wsum;
    const meanY = now.reduce((s, p) => s + p.w * p.y, 0) / wsum;
    const dtS = (tMs - track.lastSeenMs) / 1000;
    const ease = 1 - Math.exp(-Math.max(0, dtS) / OFFSET_EASE_S);
    let x = 0;
    let y = 0;
    for (const p of now) {
      p.m.ox += ease * (p.x - meanX - p.m.ox);
      p.m.oy += ease * (p.y - meanY - p.m.oy);
      x += (p.w * (p.x - p.m.ox)) / wsum;
      y += (p.w * (p.y - p.m.oy)) / wsum;
    }
    if (dtS > 0 && dtS <= this.options.staleMs / 1000) {
      track.vx = VELOCITY_SMOOTHING * ((x - track.x) / dtS) + (1 - VELOCITY_SMOOTHING) * track.vx;
      track.vy = VELOCITY_SMOOTHING * ((y - track.y) / dtS) + (1 - VELOCITY_SMOOTHING) * track.vy;
    } else if (dtS > 0) {
      // Back after a gap (a hand-over): the old velocity says nothing about now.
      track.vx = 0;
      track.vy = 0;
    }
    track.x = x;
    track.y = y;
    track.lastSeenMs = Math.max(track.lastSeenMs, tMs);
    track.lastCameras = new Set(fresh.map((m) => m.cameraId));
  }

  /**
   * A linked camera track back after missing frames where its store track's person
   * cannot be: further than breakGateM from where another camera sees that person now (this
   * camera's learnt offset allowed for), or, when no other camera sees them, further than they can
   * have walked since (gateM + handoverSpeedMps × gap). Sightings without a gap are left to
   * checkBreak, which tolerates a disagreement for breakAfterMs.
   */
  private returnsElsewhere(track: StoreTrack, member: Member, o: PlanObservation, tMs: number): boolean {
    const gapMs = tMs - member.tMs;
    const interval = this.cameraIntervalMs.get(member.cameraId) ?? this.options.staleMs;
    if (gapMs <= MISSED_FRAME_INTERVALS * interval) return false;
    const othersSee = [...track.members.values()].some((m) => m !== member && tMs - m.tMs <= this.options.staleMs);
    const d = Math.hypot(o.x - (track.x + member.ox), o.y - (track.y + member.oy));
    if (othersSee) return d > this.options.breakGateM;
    return d > this.options.gateM + this.options.handoverSpeedMps * (gapMs / 1000);
  }

  /** Splits off the most recently linked sighting when it has disagreed with the others for too long. */
  private checkBreak(track: StoreTrack, tMs: number): void {
    const fresh = this.freshMembers(track, tMs);
    if (fresh.length < 2) {
      for (const m of fresh) m.farSinceMs = undefined;
      return;
    }
    let worst: Member | undefined;
    for (const m of fresh) {
      let wx = 0;
      let wy = 0;
      let wsum = 0;
      for (const other of fresh) {
        if (other === m) continue;
        const w = 1 / (other.sigmaM * other.sigmaM + 1e-6);
        wx += w * other.x;
        wy += w * other.y;
        wsum += w;
      }
      const d = Math.hypot(m.x - wx / wsum, m.y - wy / wsum);
      if (d <= this.options.breakGateM) {
        m.farSinceMs = undefined;
        continue;
      }
      m.farSinceMs ??= tMs;
      if (tMs - m.farSinceMs >= this.options.breakAfterMs && (!worst || m.linkedAtMs > worst.linkedAtMs)) worst = m;
    }
    if (!worst) return;
    track.members.delete(worst.key);
    this.links.delete(worst.key);
    this.stats.breaks += 1;
    this.refresh(track, tMs);
    this.refuseHeld(track);
    // The split-off sighting is most likely someone else whom another camera already follows (two
    // people crossed and one camera's tracker swapped them): it is associated afresh, as if new,
    // and whichever track takes it has its held-back positions redone with its history.
    for (const other of this.associate(worst.cameraId, worst.tMs, [worst])) {
      this.refresh(other, worst.tMs);
      this.refuseHeld(other);
    }
  }

  /**
   * Redoes a track's held-back positions from its members' recent sightings (after a split or a
   * merge changed who it is made of), so counters see the corrected track from the start of the
   * decision window: a person who walked away from a wrong association crosses lines on their own.
   */
  private refuseHeld(track: StoreTrack): void {
    const members = [...track.members.values()];
    for (const tick of this.held) {
      let wx = 0;
      let wy = 0;
      let wsum = 0;
      let cameras = 0;
      for (const m of members) {
        const s = latestAtOrBefore(m.history, tick.tMs);
        if (!s || tick.tMs - s.tMs > this.options.staleMs) continue;
        const w = 1 / (s.sigmaM * s.sigmaM + 1e-6);
        wx += w * s.x;
        wy += w * s.y;
        wsum += w;
        cameras += 1;
      }
      const index = tick.positions.findIndex((p) => p.storeTrackId === track.id);
      if (wsum === 0) {
        if (index >= 0) tick.positions.splice(index, 1);
        continue;
      }
      const position = { storeTrackId: track.id, x: wx / wsum, y: wy / wsum, cameras };
      if (index >= 0) tick.positions[index] = position;
      else tick.positions.push(position);
    }
  }

  private checkMerges(tMs: number): void {
    const visible = [...this.tracks.values()].filter((t) => tMs - t.lastSeenMs <= this.options.staleMs);
    const cameras = new Map(visible.map((t) => [t, new Set(this.freshMembers(t, tMs).map((m) => m.cameraId))]));
    const stillClose = new Set<string>();
    const mergeGate = this.options.gateM / 2;
    for (let i = 0; i < visible.length; i++) {
      const a = visible[i]!;
      for (let j = i + 1; j < visible.length; j++) {
        const b = visible[j]!;
        if (Math.abs(a.x - b.x) > mergeGate || Math.abs(a.y - b.y) > mergeGate) continue;
        if (Math.hypot(a.x - b.x, a.y - b.y) > mergeGate) continue;
        const camsA = cameras.get(a)!;
        if ([...cameras.get(b)!].some((c) => camsA.has(c))) continue;
        const key = a.id < b.id ? `${a.id}:${b.id}` : `${b.id}:${a.id}`;
        stillClose.add(key);
        const since = this.closePairs.get(key) ?? tMs;
        this.closePairs.set(key, since);
        if (tMs - since >= this.options.mergeAfterMs && this.tracks.has(a.id) && this.tracks.has(b.id)) {
          const [keep, drop] = a.bornMs <= b.bornMs ? [a, b] : [b, a];
          this.merge(keep, drop, tMs);
        }
      }
    }
    for (const key of this.closePairs.keys()) if (!stillClose.has(key)) this.closePairs.delete(key);
  }

  private merge(keep: StoreTrack, drop: StoreTrack, tMs: number): void {
    for (const [key, m] of drop.members) {
      keep.members.set(key, m);
      this.links.set(key, keep);
    }
    this.tracks.delete(drop.id);
    this.stats.merges += 1;
    this.refresh(keep, tMs);
    // What is still held back is redone as one track: counters never see the second one.
    for (const tick of this.held) {
      const index = tick.positions.findIndex((p) => p.storeTrackId === drop.id);
      if (index >= 0) tick.positions.splice(index, 1);
    }
    this.refuseHeld(keep);
  }

  private expire(tMs: number): void {
    for (const track of this.tracks.values()) {
      for (const [key, m] of track.members) {
        if (tMs - m.tMs > this.options.linkTimeoutMs) {
          track.members.delete(key);
          this.links.delete(key);
        }
      }
      if (tMs - track.lastSeenMs > Math.max(this.options.handoverMs, this.options.staleMs) && track.members.size === 0) this.tracks.delete(track.id);
    }
  }
}

/** The last sighting at or before `tMs` (histories are in time order and short). */
function latestAtOrBefore(history: readonly Sighting[], tMs: number): Sighting | undefined {
  for (let i = history.length - 1; i >= 0; i--) if (history[i]!.tMs <= tMs) return history[i];
  return undefined;
}

/** Released ticks as journey samples (src/analytics/journeys). Ids are the fuser's internal numbers, for on-box use only. */
export function toPlanTrackSamples(ticks: readonly FusedTick[]): PlanTrackSample[] {
  return ticks.flatMap((tick) => tick.positions.map((p) => ({ trackId: `store-${p.storeTrackId}`, tMs: tick.tMs, x: p.x, y: p.y })));
}
