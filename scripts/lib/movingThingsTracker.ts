/**
 * OpenDataCam's tracker (npm `node-moving-things-tracker`, 0.9.1) as a FrameTracker, for the
 * accuracy benchmark. Used with the library's default parameters, the way OpenDataCam's server
 * calls it: one `updateTrackedItemsWithNewFrame` per frame, then every item of
 * `getJSONOfTrackedItems()` — including "zombies" (tracks unmatched for up to 5 frames, moved along
 * their last velocity), which OpenDataCam also counts with.
 *
 * What the library does, from its source (tracker.js, ItemTracked.js, utils.js):
 * - boxes are {x, y, w, h} with x, y the box CENTRE, in whatever unit the caller uses (OpenDataCam
 *   scales YOLO's relative boxes to pixels first, so pixels here); confidence does not take part in
 *   matching;
 * - matching: each live item, in insertion order, takes the nearest detection by 1 − IoU from its
 *   position predicted with a velocity averaged over its last 15 frames (IoU must be ≥ 0.05),
 *   searched in a k-d tree over (x, y, w, h) with that non-metric distance; if an earlier item
 *   already took that detection, this item stays unmatched this frame (no second choice);
 *   unmatched detections that overlap no live item start new items, reported at once (no
 *   confirmation);
 * - an unmatched item survives 5 frames (an item matched only once dies at once: fastDelete);
 * - it counts frames, not time: the timestamps are not used.
 *
 * The library keeps its state in module variables (one tracker per process), so constructing an
 * adapter resets it and only the most recently constructed adapter may be used.
 */
import { createRequire } from 'node:module';
import type { Detection } from '../../src/vision/detection.js';
import type { FrameTracker, TrackedBox } from '../../src/vision/tracking/frameTracker.js';

/** The library's box: centre x, y, width, height; confidence in percent (as its examples use). */
interface MtDetection {
  x: number;
  y: number;
  w: number;
  h: number;
  confidence: number;
  name: string;
}

interface MtTrackedItem {
  /** `idDisplay`: 0, 1, 2… in creation order, reset by `reset()`. */
  id: number;
  x: number;
  y: number;
  w: number;
  h: number;
  confidence: number;
  name: string;
  isZombie: boolean;
}

/** The part of node-moving-things-tracker/tracker.js used here (the package ships no types). */
interface MovingThingsTrackerModule {
  reset(): void;
  updateTrackedItemsWithNewFrame(detections: MtDetection[], frameNb: number): void;
  getJSONOfTrackedItems(roundInt?: boolean): MtTrackedItem[];
}

// tracker.js directly: the package's main.js is also its CLI and parses process.argv on import.
const library = createRequire(import.meta.url)('node-moving-things-tracker/tracker.js') as MovingThingsTrackerModule;

export interface MovingThingsTrackerOptions {
  /**
   * Detections fed to the tracker. OpenDataCam feeds it YOLO's detections above darknet's own
   * threshold (plus an optional confidence_threshold), never the weak ones a two-stage tracker
   * like storepulse's uses, so only confident person detections go in: 0.5, the same bar as the
   * IoU baseline and as storepulse's tracker's high-score stage.
   */
  minScore: number;
  /** Report zombie items as OpenDataCam does (true), or only items matched this frame. */
  includeZombies: boolean;
}

export const DEFAULT_MOVING_THINGS_OPTIONS: MovingThingsTrackerOptions = { minScore: 0.5, includeZombies: true };

/** Bumped by every constructor: only the adapter holding the latest value owns the library's state. */
let generation = 0;

export class MovingThingsTracker implements FrameTracker {
  readonly options: MovingThingsTrackerOptions;
  private frame = 0;
  private readonly generation: number;

  constructor(options: Partial<MovingThingsTrackerOptions> = {}) {
    this.options = { ...DEFAULT_MOVING_THINGS_OPTIONS, ...options };
    library.reset();
    this.generation = ++generation;
  }

  update(detections: Detection[], _timestampMs: number): TrackedBox[] {
    if (this.generation !== generation) throw new Error('node-moving-things-tracker keeps one tracker per process: a newer MovingThingsTracker has reset it');
    const input = detections
      .filter((d) => d.score >= this.options.minScore)
      .map((d): MtDetection => ({
        x: (d.x1 + d.x2) / 2,
        y: (d.y1 + d.y2) / 2,
        w: d.x2 - d.x1,
        h: d.y2 - d.y1,
        confidence: d.score * 100,
        name: 'person',
      }));
    library.updateTrackedItemsWithNewFrame(input, this.frame++);
    // Rounded to whole pixels (parseInt) by default, as OpenDataCam reads them.
    return library
      .getJSONOfTrackedItems()
      .filter((item) => this.options.includeZombies || !item.isZombie)
      .map((item) => ({
        id: item.id + 1,
        box: { x1: item.x - item.w / 2, y1: item.y - item.h / 2, x2: item.x + item.w / 2, y2: item.y + item.h / 2, score: item.confidence / 100 },
      }));
  }
}
