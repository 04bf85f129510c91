/**
 * The plain IoU tracker (Bochinski, Eiselein & Sikora, "High-Speed Tracking-by-Detection Without
 * Using Image Information", AVSS 2017), run online: a baseline for benchmarks, not for production.
 *
 * Per frame: every live track, oldest first, takes the remaining detection (score ≥ `minScore`)
 * that overlaps its last box most, if that IoU is at least `minIou`; a track left without one ends
 * at once (no prediction, no memory); every detection left over starts a new track. A track is
 * reported from its `minHits`-th frame on, with the detection's own box.
 *
 * No motion model, no timestamps: it works in frames, which is the point of the baseline.
 */
import { iou, type Detection } from '../detection.js';
import type { FrameTracker, TrackedBox } from './frameTracker.js';

export interface IouTrackerOptions {
  /** Detections below this score are ignored (σ_l in the paper). */
  minScore: number;
  /** Minimum IoU between a track's last box and a detection to extend it (σ_IoU). */
  minIou: number;
  /** Frames a track must have been seen in before it is reported (t_min, online). */
  minHits: number;
}

export const DEFAULT_IOU_TRACKER_OPTIONS: IouTrackerOptions = { minScore: 0.5, minIou: 0.3, minHits: 2 };

interface IouTrack {
  id: number;
  box: Detection;
  hits: number;
}

export class IouTracker implements FrameTracker {
  readonly options: IouTrackerOptions;
  private tracks: IouTrack[] = [];
  private nextId = 1;

  constructor(options: Partial<IouTrackerOptions> = {}) {
    this.options = { ...DEFAULT_IOU_TRACKER_OPTIONS, ...options };
  }

  update(detections: Detection[], _timestampMs: number): TrackedBox[] {
    const remaining = detections.filter((d) => d.score >= this.options.minScore);
    const alive: IouTrack[] = [];
    for (const track of this.tracks) {
      let best = -1;
      let bestIou = this.options.minIou;
      for (const [i, d] of remaining.entries()) {
        const overlap = iou(track.box, d);
        if (overlap > bestIou || (overlap === bestIou && best < 0)) {
          best = i;
          bestIou = overlap;
        }
      }
      if (best < 0) continue; // unmatched: the track ends
      const [match] = remaining.splice(best, 1) as [Detection];
      alive.push({ id: track.id, box: { ...match }, hits: track.hits + 1 });
    }
    for (const d of remaining) alive.push({ id: this.nextId++, box: { ...d }, hits: 1 });
    this.tracks = alive;
    return alive.filter((t) => t.hits >= this.options.minHits).map((t) => ({ id: t.id, box: { ...t.box } }));
  }
}
