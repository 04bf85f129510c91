/**
 * Multi-object tracker in the style of ByteTrack: predict every track with a Kalman filter,
 * associate high-score detections first (to confirmed and lost tracks), then low-score ones to
 * the confirmed tracks still unmatched — low scores are mostly occluded people, which is what
 * keeps a track alive through a crowd. New tracks are tentative until seen again; lost tracks are
 * kept for a buffer measured in milliseconds, not frames.
 *
 * Pure: no I/O, timestamps passed in, randomness injected. Ids are random per session and never
 * reused; they identify a track, never a person, and are not persisted.
 */
import { randomInt } from 'node:crypto';
import type { Detection } from '../detection.js';
import { iou } from '../detection.js';
import { appearanceDistance, blendSignatureInPlace } from './appearance.js';
import { KalmanBoxFilter, type BoxState } from './kalmanBox.js';
import { solveAssignmentWithUnmatchedCost } from './linearAssignment.js';
import type { FrameSize } from './frameTracker.js';
import { StaticClutterFilter, type StaticClutterOptions } from './staticClutter.js';

export interface TrackerOptions {
  /** Detections at or above this score take part in the first association and can start tracks. */
  highScore: number;
  /** Detections between lowScore and highScore only extend existing tracks. */
  lowScore: number;
  /** A new track needs this score. */
  newTrackScore: number;
  /**
   * Minimum IoU between a predicted track and a detection, per association stage, for frames
   * `referenceFrameMs` apart. Over longer gaps people move further than the filter can predict,
   * so the thresholds shrink in proportion (a 10 fps store camera is not a 30 fps benchmark).
   */
  matchIouHigh: number;
  matchIouLow: number;
  matchIouTentative: number;
  referenceFrameMs: number;
  /** How long an unseen track is kept for re-association. */
  lostBufferMs: number;
  /** Consecutive matched frames before a track is confirmed (reported). */
  confirmHits: number;
  /**
   * Lost tracks unseen for at most this long may be revived by a low-score detection (stage 2).
   * Plain ByteTrack never does this, and loses people walking half-hidden behind others: one
   * missed frame and their weak detections can no longer hold the track.
   */
  lowScoreReviveMs: number;
  /** Optimal (Hungarian) or greedy-by-IoU assignment within each stage. */
  assignment: 'optimal' | 'greedy';
  /**
   * Lost tracks may be re-associated with a confident detection whose centre is within this many
   * box heights of the track's prediction (0 = off): people walk out of an occlusion further than
   * IoU can follow, especially at 5–10 fps.
   */
  reassociateHeights: number;
  /** Drop weak detections on learned static clutter sites (see staticClutter.ts); false = off. */
  staticClutter: Partial<StaticClutterOptions> | false;
  /**
   * Colour-signature gate (appearance.ts) in the IoU stages: a track and a confident detection
   * whose signatures are further apart than this are not paired when either has a rival
   * (1 = off). Only applies when both have a signature; weak detections are paired on IoU alone.
   */
  appearanceGate: number;
  /** Colour gate for re-associating a lost track by centre distance (stage 1b), where IoU says nothing. */
  reassociateAppearanceGate: number;
  /** Weight of the signature distance in the association cost, next to 1 − IoU (0 = IoU only). */
  appearanceWeight: number;
  /** Share of a new confident observation in the track's signature (moving average). */
  appearanceMomentum: number;
  /**
   * A new track confirmed within this long of a lost track's last sighting, near where it was last
   * seen, takes over the lost track's id (0 = off). The tracker could not follow the person through
   * the gap (occluded, or out of the IoU and re-association gates), but a person does not vanish
   * and another appear in the same spot a moment later: without this, a line crossed during the
   * gap is never counted (the new track starts on the far side) and a zone visit is split in two.
   */
  inheritIdentityMs: number;
  /** How near, in box heights between the lost track's last foot point and the new one's. */
  inheritIdentityHeights: number;
  /**
   * …plus this many box heights per second since the lost track was last seen: at 5 fps a person
   * walks further between the last sighting and the new track's confirmation than one box height
   * (people walk about a body height per second; half of it is the conservative share).
   */
  inheritIdentityHeightsPerSecond: number;
}

/**
 * A lost track last seen this close to the image's edge (share of its width or height) most likely
 * walked out of view; the next person to appear there is someone else, so nobody inherits its id.
 */
const EXIT_EDGE = 0.01;

/**
 * Defaults measured with `storepulse eval` on PETS09-S2L1 (vtest.avi), tuned on frames 0–397 only
 * and checked on 398–794 and on seeded random lines and zones (docs/benchmarks.md, "Counting
 * accuracy"). Against the previous defaults: optimal assignment, the static clutter filter, a
 * looser first-stage gate (0.1: the Kalman prediction lags people who turn or stop at 5–10 fps),
 * centre-distance re-association of lost tracks, colour signatures that keep two people
 * apart when their boxes meet, and new tracks carrying on the id of a lost track last seen where
 * they start.
 */
export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  highScore: 0.5,
  lowScore: 0.1,
  newTrackScore: 0.55,
  matchIouHigh: 0.1,
  matchIouLow: 0.4,
  matchIouTentative: 0.3,
  // Store cameras run at 5–10 fps: gates hold as set at 10 fps and shrink only for slower frames.
  referenceFrameMs: 100,
  lostBufferMs: 1500,
  confirmHits: 2,
  lowScoreReviveMs: 1000,
  assignment: 'optimal',
  reassociateHeights: 1,
  staticClutter: {},
  appearanceGate: 0.4,
  appearanceWeight: 0.5,
  reassociateAppearanceGate: 0.3,
  appearanceMomentum: 0.1,
  inheritIdentityMs: 1500,
  inheritIdentityHeights: 1,
  inheritIdentityHeightsPerSecond: 0.5,
};

export type TrackState = 'tentative' | 'confirmed' | 'lost';

export interface Track {
  id: number;
  state: TrackState;
  /** Box in pixels: the filtered estimate after this frame's update (or the prediction when unmatched). */
  box: Detection;
  /** Score of the detection last associated. */
  score: number;
  firstSeenMs: number;
  lastSeenMs: number;
  hits: number;
  /** True when a detection was associated in the latest update. */
  matched: boolean;
}

interface InternalTrack extends Track {
  filter: KalmanBoxFilter;
  /** The last detection associated, where the person was really seen (box is the filter's estimate). */
  lastObserved: Detection;
  appearance?: Float32Array;
}

/** Signature distance of a track and a detection, 0 when either has none (nothing to tell them apart). */
function signatureDistance(track: InternalTrack, det: Detection): number {
  return track.appearance && det.appearance ? appearanceDistance(track.appearance, det.appearance) : 0;
}

interface AppearanceCost {
  gate: number;
  weight: number;
}

/**
 * Stage 2 pairs tracks with weak detections, which are mostly people half hidden behind others:
 * their boxes hold the occluder's colours as much as their own, so only geometry decides there.
 */
const IOU_ONLY: AppearanceCost = { gate: 1, weight: 0 };

const toState = (d: Detection): BoxState => ({ cx: (d.x1 + d.x2) / 2, cy: (d.y1 + d.y2) / 2, w: d.x2 - d.x1, h: d.y2 - d.y1 });
const toBox = (s: BoxState, score: number): Detection => ({
  x1: s.cx - s.w / 2,
  y1: s.cy - s.h / 2,
  x2: s.cx + s.w / 2,
  y2: s.cy + s.h / 2,
  score,
});

/** Pairs tracks and detections whose IoU is at least `minIou`. Returns [trackIndex, detectionIndex] pairs. */
function associate(
  tracks: readonly InternalTrack[],
  detections: readonly Detection[],
  minIou: number,
  mode: 'optimal' | 'greedy',
  appearance: AppearanceCost,
): [number, number][] {
  if (tracks.length === 0 || detections.length === 0) return [];
  const overlaps = tracks.map((t) => detections.map((d) => iou(t.box, d)));
  if (mode === 'optimal') {
    // Maximise the total overlap: a crowd where one greedy pick steals another's only match is the common case.
    // Pairs under the IoU gate or over the colour gate are forbidden; the colour distance breaks near-ties.
    const maxCost = 1 - minIou + appearance.weight * appearance.gate;
    const rowOptions = overlaps.map((row) => row.filter((o) => o >= minIou).length);
    const colOptions = detections.map((_, d) => overlaps.filter((row) => (row[d] as number) >= minIou).length);
    const costs = overlaps.map((row, t) =>
      row.map((o, d) => {
        if (o < minIou) return Infinity;
        if (appearance === IOU_ONLY) return 1 - o;
        const a = signatureDistance(tracks[t] as InternalTrack, detections[d] as Detection);
        // Colours only veto a pair that has a rival (another detection for this track, or another
        // track for this detection): a lone match stays, because a half-hidden person's colours
        // change while the geometry still says who it is.
        const contested = (rowOptions[t] as number) > 1 || (colOptions[d] as number) > 1;
        return a > appearance.gate && contested ? Infinity : 1 - o + appearance.weight * a;
      }),
    );
    // Fewer but cheaper: two people meeting must not be paired crosswise just so that a lost
    // track gets a detection too (ByteTrack's cost-limited assignment).
    return solveAssignmentWithUnmatchedCost(costs, maxCost);
  }
  const pairs: { t: number; d: number; overlap: number }[] = [];
  overlaps.forEach((row, t) => row.forEach((overlap, d) => {
    if (overlap >= minIou) pairs.push({ t, d, overlap });
  }));
  pairs.sort((a, b) => b.overlap - a.overlap);
  const usedT = new Set<number>();
  const usedD = new Set<number>();
  const matches: [number, number][] = [];
  for (const p of pairs) {
    if (usedT.has(p.t) || usedD.has(p.d)) continue;
    usedT.add(p.t);
    usedD.add(p.d);
    matches.push([p.t, p.d]);
  }
  return matches;
}

/** Centre distance between a track's prediction and a detection, in units of the track's height. */
function centreDistanceInHeights(track: InternalTrack, det: Detection): number {
  const dx = (track.box.x1 + track.box.x2 - det.x1 - det.x2) / 2;
  const dy = (track.box.y1 + track.box.y2 - det.y1 - det.y2) / 2;
  const h = Math.max(1, track.box.y2 - track.box.y1);
  const sizeRatio = (det.y2 - det.y1) / h;
  // A detection of a very different size is another person (nearer or further away).
  if (sizeRatio < 0.67 || sizeRatio > 1.5) return Infinity;
  return Math.hypot(dx, dy) / h;
}

export class ByteTracker {
  private tracks: InternalTrack[] = [];
  private readonly usedIds = new Set<number>();
  private lastTimestampMs: number | undefined;
  private readonly clutter: StaticClutterFilter | undefined;
  readonly options: TrackerOptions;

  constructor(
    options: Partial<TrackerOptions> = {},
    private readonly randomId: () => number = () => randomInt(1, 2 ** 31 - 1),
  ) {
    this.options = { ...DEFAULT_TRACKER_OPTIONS, ...options };
    const clutter = this.options.staticClutter;
    this.clutter = clutter === false ? undefined : new StaticClutterFilter({ highScore: this.options.highScore, ...clutter });
  }

  /** Advances to `timestampMs` with this frame's detections; returns the confirmed tracks seen in this frame. */
  update(frameDetections: Detection[], timestampMs: number, frame?: FrameSize): Track[] {
    const o = this.options;
    const detections = this.clutter ? this.clutter.filter(frameDetections, timestampMs) : frameDetections;
    const dt = this.lastTimestampMs === undefined ? 0 : Math.max(0, (timestampMs - this.lastTimestampMs) / 1000);
    this.lastTimestampMs = timestampMs;
    const gateScale = dt > 0 ? Math.min(1, o.referenceFrameMs / (dt * 1000)) : 1;
    const colours: AppearanceCost = { gate: o.appearanceGate, weight: o.appearanceWeight };
    for (const t of this.tracks) {
      t.filter.predict(dt);
      t.box = toBox(t.filter.state, t.score);
      t.matched = false;
    }
    const high = detections.filter((d) => d.score >= o.highScore);
    const low = detections.filter((d) => d.score >= o.lowScore && d.score < o.highScore);

    const established = this.tracks.filter((t) => t.state !== 'tentative');
    const tentative = this.tracks.filter((t) => t.state === 'tentative');

    // 1. High-score detections against confirmed and lost tracks.
    const remainingHigh = new Set(high.map((_, i) => i));
    for (const [ti, di] of associate(established, high, o.matchIouHigh * gateScale, o.assignment, colours)) {
      this.apply(established[ti] as InternalTrack, high[di] as Detection, timestampMs);
      remainingHigh.delete(di);
    }
    // 1b. Lost tracks against confident detections left, by centre distance (they walked out of an occlusion).
    if (o.reassociateHeights > 0) {
      const lost = established.filter((t) => !t.matched && t.state === 'lost');
      const left = [...remainingHigh];
      // Distance in units of the reach, plus the colour distance; a stranger's colours are gated out.
      const cost = lost.map((t) =>
        left.map((di) => {
          const det = high[di] as Detection;
          const reach = centreDistanceInHeights(t, det) / o.reassociateHeights;
          const colour = signatureDistance(t, det);
          return reach > 1 || colour > o.reassociateAppearanceGate ? Infinity : reach + o.appearanceWeight * colour;
        }),
      );
      for (const [li, k] of solveAssignmentWithUnmatchedCost(cost, 1 + o.appearanceWeight * o.reassociateAppearanceGate)) {
        const di = left[k] as number;
        this.apply(lost[li] as InternalTrack, high[di] as Detection, timestampMs);
        remainingHigh.delete(di);
      }
    }
    // 2. Low-score detections against confirmed tracks still unmatched, and tracks lost only briefly.
    const stillOpen = established.filter(
      (t) =>
        !t.matched &&
        (t.state === 'confirmed' || timestampMs - t.lastSeenMs <= o.lowScoreReviveMs),
    );
    for (const [ti, di] of associate(stillOpen, low, o.matchIouLow * gateScale, o.assignment, IOU_ONLY)) {
      this.apply(stillOpen[ti] as InternalTrack, low[di] as Detection, timestampMs);
    }
    // 3. Tentative tracks against the high-score detections left.
    const leftHigh = [...remainingHigh].map((i) => high[i] as Detection);
    const takenByTentative = new Set<number>();
    const confirmedNow: InternalTrack[] = [];
    for (const [ti, di] of associate(tentative, leftHigh, o.matchIouTentative * gateScale, o.assignment, colours)) {
      const track = tentative[ti] as InternalTrack;
      this.apply(track, leftHigh[di] as Detection, timestampMs);
      takenByTentative.add(di);
      if (track.state === 'confirmed') confirmedNow.push(track);
    }
    const inherited = this.inheritIdentities(confirmedNow, timestampMs, frame);
    if (inherited.size > 0) this.tracks = this.tracks.filter((t) => !inherited.has(t));
    // 4. Book-keeping: unmatched tentative tracks die, unmatched confirmed ones are lost, old lost ones go.
    this.tracks = this.tracks.filter((t) => {
      if (t.matched) return true;
      if (t.state === 'tentative') return false;
      t.state = 'lost';
      return timestampMs - t.lastSeenMs <= o.lostBufferMs;
    });
    // 5. New tentative tracks from the confident detections nobody claimed.
    leftHigh.forEach((det, i) => {
      if (!takenByTentative.has(i) && det.score >= o.newTrackScore) this.spawn(det, timestampMs);
    });
    return this.tracks.filter((t) => t.matched && t.state === 'confirmed').map(publicView);
  }

  /**
   * Advances to `timestampMs` without detections, because the detector was skipped on a still
   * scene (motion gate). Tracks move by their prediction, and the skipped time does not count as
   * unseen: nobody leaves a scene in which nothing moved. Returns the tracks `update` would.
   */
  coast(timestampMs: number): Track[] {
    const dt = this.lastTimestampMs === undefined ? 0 : Math.max(0, (timestampMs - this.lastTimestampMs) / 1000);
    this.lastTimestampMs = timestampMs;
    for (const t of this.tracks) {
      t.filter.predict(dt);
      t.box = toBox(t.filter.state, t.score);
      if (t.matched) t.lastSeenMs = timestampMs;
    }
    return this.tracks.filter((t) => t.matched && t.state === 'confirmed').map(publicView);
  }

  /** Every live track, including lost and tentative ones (for diagnostics). */
  get allTracks(): Track[] {
    return this.tracks.map(publicView);
  }

  /**
   * Newly confirmed tracks take over the ids of lost tracks last seen near them, nearest pairs
   * first (each lost track once); returns the lost tracks whose ids were taken.
   */
  private inheritIdentities(confirmedNow: readonly InternalTrack[], timestampMs: number, frame: FrameSize | undefined): Set<InternalTrack> {
    const o = this.options;
    const taken = new Set<InternalTrack>();
    if (o.inheritIdentityMs <= 0 || confirmedNow.length === 0) return taken;
    const leftTheView = (d: Detection): boolean =>
      frame !== undefined &&
      (d.x1 <= EXIT_EDGE * frame.width || d.y1 <= EXIT_EDGE * frame.height || d.x2 >= (1 - EXIT_EDGE) * frame.width || d.y2 >= (1 - EXIT_EDGE) * frame.height);
    const lost = this.tracks.filter(
      (t) => t.state === 'lost' && !t.matched && timestampMs - t.lastSeenMs <= o.inheritIdentityMs && !leftTheView(t.lastObserved),
    );
    const pairs: { heir: InternalTrack; lost: InternalTrack; distance: number }[] = [];
    for (const heir of confirmedNow) {
      const here = heir.lastObserved;
      const height = Math.max(1, here.y2 - here.y1);
      for (const t of lost) {
        const there = t.lastObserved;
        // Foot to foot, in the new track's box heights.
        const distance = Math.hypot((there.x1 + there.x2 - here.x1 - here.x2) / 2, there.y2 - here.y2) / height;
        const reach = o.inheritIdentityHeights + (o.inheritIdentityHeightsPerSecond * (timestampMs - t.lastSeenMs)) / 1000;
        if (distance < reach) pairs.push({ heir, lost: t, distance });
      }
    }
    pairs.sort((p, q) => p.distance - q.distance);
    const heirs = new Set<InternalTrack>();
    for (const { heir, lost: t } of pairs) {
      if (heirs.has(heir) || taken.has(t)) continue;
      heirs.add(heir);
      taken.add(t);
      heir.id = t.id;
      heir.firstSeenMs = t.firstSeenMs;
    }
    return taken;
  }

  private apply(track: InternalTrack, det: Detection, timestampMs: number): void {
    track.filter.update(toState(det));
    track.lastObserved = det;
    // Only confident detections teach the track its colours: weak ones are mostly half-hidden people.
    if (det.appearance && det.score >= this.options.highScore) {
      // The track owns a copy: blending writes into it, and the detection may be replayed elsewhere.
      if (track.appearance) blendSignatureInPlace(track.appearance, det.appearance, this.options.appearanceMomentum);
      else track.appearance = det.appearance.slice();
    }
    track.score = det.score;
    track.box = toBox(track.filter.state, det.score);
    track.lastSeenMs = timestampMs;
    track.hits += 1;
    track.matched = true;
    if (track.state === 'lost') track.state = 'confirmed';
    else if (track.state === 'tentative' && track.hits >= this.options.confirmHits) track.state = 'confirmed';
  }

  private spawn(det: Detection, timestampMs: number): void {
    let id = this.randomId();
    while (this.usedIds.has(id)) id = this.randomId();
    this.usedIds.add(id);
    const track: InternalTrack = {
      id,
      state: this.options.confirmHits <= 1 ? 'confirmed' : 'tentative',
      box: { ...det },
      lastObserved: det,
      score: det.score,
      firstSeenMs: timestampMs,
      lastSeenMs: timestampMs,
      hits: 1,
      matched: true,
      filter: new KalmanBoxFilter(toState(det)),
      ...(det.appearance ? { appearance: det.appearance.slice() } : {}),
    };
    this.tracks.push(track);
  }
}

function publicView(t: InternalTrack): Track {
  return { id: t.id, state: t.state, box: t.box, score: t.score, firstSeenMs: t.firstSeenMs, lastSeenMs: t.lastSeenMs, hits: t.hits, matched: t.matched };
}
