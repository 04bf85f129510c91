/**
 * Learns where the detector keeps seeing a weak "person" that never moves — a traffic cone, a sign
 * post, a mannequin, a tripod — and removes those weak detections before tracking.
 *
 * Why here and not in the detector: the tracker's second stage needs low-score detections to follow
 * half-hidden people, and a person-shaped object produces exactly such detections, in every frame,
 * for the whole day. A track that passes by can slide onto it and live on it forever, and a zone
 * around it fills with phantom dwell. People move; clutter does not. A site is a box seen again and
 * again at the same place (IoU ≥ `siteIou`) for `learnAfterMs`, almost always with a low score.
 * Confident detections are never removed, so a person standing at that very spot is still seen,
 * and a site that stops being seen for `forgetAfterMs` is forgotten (the cone was moved).
 *
 * Pure: timestamps are passed in.
 */
import { iou, type Detection } from '../detection.js';

export interface StaticClutterOptions {
  /** Detections below this score are candidates for clutter (the tracker's high-score threshold). */
  highScore: number;
  /** Detections of a site must overlap its box at least this much. */
  siteIou: number;
  /** How long a site must be seen before its weak detections are dropped. */
  learnAfterMs: number;
  /** A site must have been seen in at least this fraction of its frames. */
  minPresence: number;
  /** A site whose confident detections exceed this fraction of its sightings is a person, not clutter. */
  maxConfidentFraction: number;
  /** Unseen this long, a site is forgotten. */
  forgetAfterMs: number;
}

export const DEFAULT_STATIC_CLUTTER_OPTIONS: StaticClutterOptions = {
  highScore: 0.5,
  siteIou: 0.6,
  learnAfterMs: 5000,
  minPresence: 0.6,
  maxConfidentFraction: 0.15,
  forgetAfterMs: 30_000,
};

interface Site {
  box: Detection;
  firstMs: number;
  lastMs: number;
  frames: number;
  sightings: number;
  confident: number;
}

export class StaticClutterFilter {
  private sites: Site[] = [];
  readonly options: StaticClutterOptions;

  constructor(options: Partial<StaticClutterOptions> = {}) {
    this.options = { ...DEFAULT_STATIC_CLUTTER_OPTIONS, ...options };
  }

  /** Returns this frame's detections without the weak ones on learned clutter sites. */
  filter(detections: readonly Detection[], timestampMs: number): Detection[] {
    const o = this.options;
    for (const site of this.sites) site.frames += 1;
    const claimed = this.claimSites(detections);
    const kept: Detection[] = [];
    detections.forEach((det, i) => {
      const site = claimed.get(i);
      if (site) {
        const clutter = this.isClutter(site);
        this.observe(site, det, timestampMs);
        if (clutter && det.score < o.highScore) return;
      } else {
        this.sites.push({ box: { ...det }, firstMs: timestampMs, lastMs: timestampMs, frames: 1, sightings: 1, confident: det.score >= o.highScore ? 1 : 0 });
      }
      kept.push(det);
    });
    // Keep the list short: a site that a passer-by left behind (seen too rarely to ever be clutter) goes at once.
    this.sites = this.sites.filter(
      (s) => timestampMs - s.lastMs <= o.forgetAfterMs && (this.isClutter(s) || s.frames < 10 || s.sightings >= o.minPresence * s.frames),
    );
    return kept;
  }

  /** Learned clutter boxes (for diagnostics and the installer's view). */
  get clutterBoxes(): Detection[] {
    return this.sites.filter((s) => this.isClutter(s)).map((s) => ({ ...s.box }));
  }

  private isClutter(site: Site): boolean {
    const o = this.options;
    return (
      site.lastMs - site.firstMs >= o.learnAfterMs &&
      site.sightings >= o.minPresence * site.frames &&
      site.confident <= o.maxConfidentFraction * site.sightings
    );
  }

  /**
   * Gives each detection the unclaimed site it overlaps most (IoU ≥ `siteIou`), in list order, but
   * weak detections first: detectors list detections by descending score, and a person walking past
   * a learned site must not take it from the weak detection of the clutter on it, which would then
   * be kept and start a new, unlearned site in its place.
   */
  private claimSites(detections: readonly Detection[]): Map<number, Site> {
    const claimed = new Map<number, Site>();
    const taken = new Set<Site>();
    const weakFirst = detections.map((_, i) => i).sort((a, b) => this.rank(detections[a] as Detection) - this.rank(detections[b] as Detection));
    for (const i of weakFirst) {
      const site = this.bestSite(detections[i] as Detection, taken);
      if (!site) continue;
      claimed.set(i, site);
      taken.add(site);
    }
    return claimed;
  }

  private rank(det: Detection): number {
    return det.score < this.options.highScore ? 0 : 1;
  }

  private bestSite(det: Detection, taken: Set<Site>): Site | undefined {
    let best: Site | undefined;
    let bestIou = this.options.siteIou;
    for (const site of this.sites) {
      const b = site.box;
      // Most sites are elsewhere in the frame: a disjoint box is rejected before any IoU.
      if (b.x2 <= det.x1 || b.x1 >= det.x2 || b.y2 <= det.y1 || b.y1 >= det.y2 || taken.has(site)) continue;
      const overlap = iou(b, det);
      if (overlap >= bestIou) {
        best = site;
        bestIou = overlap;
      }
    }
    return best;
  }

  private observe(site: Site, det: Detection, timestampMs: number): void {
    // A slow running average: the site is where the object is, not where the last box jittered to.
    const a = 0.1;
    site.box = {
      x1: site.box.x1 + a * (det.x1 - site.box.x1),
      y1: site.box.y1 + a * (det.y1 - site.box.y1),
      x2: site.box.x2 + a * (det.x2 - site.box.x2),
      y2: site.box.y2 + a * (det.y2 - site.box.y2),
      score: det.score,
    };
    site.lastMs = timestampMs;
    site.sightings += 1;
    if (det.score >= this.options.highScore) site.confident += 1;
  }
}
