/**
 * Multi-object tracking accuracy against ground truth, written from the published definitions:
 *
 * - CLEAR-MOT (Bernardin & Stiefelhagen 2008), with the frame-by-frame matching rules of
 *   py-motmetrics / MOTChallenge: MOTA, MOTP, misses, false positives, ID switches,
 *   fragmentations, mostly tracked / mostly lost.
 * - Identity metrics (Ristani et al. 2016): IDTP, IDFP, IDFN, IDP, IDR, IDF1.
 *
 * A ground-truth box and a hypothesis box can correspond only if their IoU ≥ `iouThreshold`.
 * Ids only need to be unique within one frame and one side (gt ids and hyp ids are separate spaces).
 */
import { iou, type Detection } from '../detection.js';
import { solveAssignment } from '../tracking/linearAssignment.js';

/** One box of a trajectory: `id` is the person (ground truth) or the track (hypothesis). */
export interface IdBox {
  id: number;
  box: Detection;
}

/** Everything annotated and everything tracked in one frame. */
export interface TrackingFrame {
  gt: readonly IdBox[];
  hyp: readonly IdBox[];
}

export interface TrackingMetricsOptions {
  /** Minimum IoU for a gt/hyp pair to count as the same person in a frame (inclusive). Default 0.5. */
  iouThreshold?: number;
}

/**
 * Ratios whose denominator is zero are reported as follows, so an empty evaluation never yields NaN:
 * - `mota`: with no gt boxes, 1 when there is no false positive either (nothing to do, nothing done
 *   wrong), otherwise 0 (MOTA would be −∞; 0 gives no credit without poisoning averages).
 * - `motp`: 0 when nothing matched (there is no localisation to measure).
 * - `idp` / `idr`: 1 when there is no hyp / gt box (no hypothesis can be wrong / nothing can be missed).
 * - `idf1`: 1 when there is neither gt nor hyp; otherwise the formula is well defined.
 */
export interface TrackingMetrics {
  /** Frames evaluated. */
  frames: number;
  /** Ground-truth boxes over all frames. */
  gtCount: number;
  /** Hypothesis boxes over all frames. */
  hypCount: number;
  /** Matched gt/hyp pairs (CLEAR-MOT true positives). */
  matches: number;
  /** Gt boxes left unmatched (FN). */
  misses: number;
  /** Hyp boxes left unmatched (FP). */
  falsePositives: number;
  /** Matches whose hyp id differs from the hyp id that gt was last matched to. */
  idSwitches: number;
  /** Interruptions of a gt trajectory: tracked, then untracked for a while, then tracked again. */
  fragmentations: number;
  /** 1 − (misses + falsePositives + idSwitches) / gtCount; at most 1, unbounded below. */
  mota: number;
  /** Mean IoU of the matches (higher is better; py-motmetrics reports 1 − this). */
  motp: number;
  idtp: number;
  idfp: number;
  idfn: number;
  /** IDTP / (IDTP + IDFP). */
  idp: number;
  /** IDTP / (IDTP + IDFN). */
  idr: number;
  /** 2·IDTP / (2·IDTP + IDFP + IDFN). */
  idf1: number;
  /** Distinct ground-truth ids. */
  gtTrajectories: number;
  /** Gt trajectories matched in at least 80% of the frames they appear in. */
  mostlyTracked: number;
  /** Gt trajectories matched in less than 20% of the frames they appear in. */
  mostlyLost: number;
}

export const DEFAULT_IOU_THRESHOLD = 0.5;

export function evaluateTracking(frames: readonly TrackingFrame[], options: TrackingMetricsOptions = {}): TrackingMetrics {
  const threshold = options.iouThreshold ?? DEFAULT_IOU_THRESHOLD;
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`iouThreshold must be in (0, 1], got ${threshold}`);
  frames.forEach(checkUniqueIds);

  const clear = clearMot(frames, threshold);
  const identity = identityMetrics(frames, threshold);
  const gtCount = clear.matches + clear.misses;
  const hypCount = clear.matches + clear.falsePositives;
  const errors = clear.misses + clear.falsePositives + clear.idSwitches;

  return {
    frames: frames.length,
    gtCount,
    hypCount,
    matches: clear.matches,
    misses: clear.misses,
    falsePositives: clear.falsePositives,
    idSwitches: clear.idSwitches,
    fragmentations: clear.fragmentations,
    mota: gtCount > 0 ? 1 - errors / gtCount : errors === 0 ? 1 : 0,
    motp: clear.matches > 0 ? clear.iouSum / clear.matches : 0,
    idtp: identity.idtp,
    idfp: hypCount - identity.idtp,
    idfn: gtCount - identity.idtp,
    idp: hypCount > 0 ? identity.idtp / hypCount : 1,
    idr: gtCount > 0 ? identity.idtp / gtCount : 1,
    idf1: gtCount + hypCount > 0 ? (2 * identity.idtp) / (gtCount + hypCount) : 1,
    gtTrajectories: clear.trajectories.size,
    mostlyTracked: countTrajectories(clear.trajectories, (t) => 5 * t.matched >= 4 * t.present),
    mostlyLost: countTrajectories(clear.trajectories, (t) => 5 * t.matched < t.present),
  };
}

/** Duplicate ids in one frame make "which box is person 3" ambiguous, so they are rejected rather than guessed. */
function checkUniqueIds(frame: TrackingFrame, index: number): void {
  for (const [side, boxes] of [['gt', frame.gt], ['hyp', frame.hyp]] as const) {
    const seen = new Set<number>();
    for (const { id } of boxes) {
      if (seen.has(id)) throw new RangeError(`frame ${index}: ${side} id ${id} appears twice`);
      seen.add(id);
    }
  }
}

/** Per gt trajectory: how often it was present and matched, and its fragmentation state. */
interface TrajectoryStats {
  present: number;
  matched: number;
  fragments: number;
  /** Tracked at some earlier frame and untracked since: the next match closes a fragment. */
  interrupted: boolean;
}

interface ClearMotCounts {
  matches: number;
  misses: number;
  falsePositives: number;
  idSwitches: number;
  fragmentations: number;
  iouSum: number;
  trajectories: Map<number, TrajectoryStats>;
}

interface FrameMatch {
  gt: number;
  hyp: number;
  overlap: number;
}

function clearMot(frames: readonly TrackingFrame[], threshold: number): ClearMotCounts {
  const counts: ClearMotCounts = { matches: 0, misses: 0, falsePositives: 0, idSwitches: 0, fragmentations: 0, iouSum: 0, trajectories: new Map() };
  // gt id → hyp id matched in the previous frame: the only correspondences the persistence rule keeps.
  let previous = new Map<number, number>();
  // gt id → hyp id of its latest match in any earlier frame: what an ID switch is judged against,
  // so a person lost for a while and picked up by a new track still counts as a switch.
  const lastHyp = new Map<number, number>();

  for (const frame of frames) {
    const matches = matchFrame(frame, previous, threshold);
    const current = new Map<number, number>();
    for (const { gt, hyp, overlap } of matches) {
      const last = lastHyp.get(gt);
      if (last !== undefined && last !== hyp) counts.idSwitches++;
      lastHyp.set(gt, hyp);
      current.set(gt, hyp);
      counts.iouSum += overlap;
    }
    counts.matches += matches.length;
    counts.misses += frame.gt.length - matches.length;
    counts.falsePositives += frame.hyp.length - matches.length;
    for (const { id } of frame.gt) recordPresence(counts, id, current.has(id));
    previous = current;
  }
  return counts;
}

/**
 * Fragmentation follows the gt through the frames it is annotated in (a frame without that gt is
 * not a gap): every run of untracked frames between two tracked ones is one fragmentation.
 */
function recordPresence(counts: ClearMotCounts, gtId: number, tracked: boolean): void {
  let stats = counts.trajectories.get(gtId);
  if (!stats) {
    stats = { present: 0, matched: 0, fragments: 0, interrupted: false };
    counts.trajectories.set(gtId, stats);
  }
  const everTracked = stats.matched > 0;
  stats.present++;
  if (tracked) {
    if (stats.interrupted) {
      stats.fragments++;
      counts.fragmentations++;
    }
    stats.matched++;
    stats.interrupted = false;
  } else if (everTracked) {
    stats.interrupted = true;
  }
}

/**
 * One frame's correspondences. First the persistence rule: a gt/hyp pair matched in the previous
 * frame stays matched while its IoU is still ≥ threshold, even if some other box now overlaps
 * better; that is what keeps a momentary better fit from counting as an identity change. The
 * remaining boxes are then matched by minimum total (1 − IoU), which, unlike greedy best-IoU
 * first, cannot be fooled into a worse global pairing by one locally attractive pair.
 */
function matchFrame(frame: TrackingFrame, previous: ReadonlyMap<number, number>, threshold: number): FrameMatch[] {
  const matches: FrameMatch[] = [];
  const hypIndex = new Map(frame.hyp.map((h, k) => [h.id, k]));
  const gtTaken = new Array<boolean>(frame.gt.length).fill(false);
  const hypTaken = new Array<boolean>(frame.hyp.length).fill(false);

  frame.gt.forEach((g, gi) => {
    const prevHyp = previous.get(g.id);
    const hi = prevHyp === undefined ? undefined : hypIndex.get(prevHyp);
    if (hi === undefined) return;
    const overlap = iou(g.box, frame.hyp[hi]!.box);
    if (overlap < threshold) return;
    matches.push({ gt: g.id, hyp: prevHyp!, overlap });
    gtTaken[gi] = true;
    hypTaken[hi] = true;
  });

  const gtLeft = frame.gt.filter((_, k) => !gtTaken[k]);
  const hypLeft = frame.hyp.filter((_, k) => !hypTaken[k]);
  const overlaps = gtLeft.map((g) => hypLeft.map((h) => iou(g.box, h.box)));
  // Below-threshold pairs are made infeasible outright (not via maxCost on 1 − IoU), so the
  // inclusive IoU boundary is decided on the IoU itself, free of 1 − x rounding.
  const cost = overlaps.map((row) => row.map((o) => (o >= threshold ? 1 - o : Infinity)));
  for (const [r, c] of solveAssignment(cost)) {
    matches.push({ gt: gtLeft[r]!.id, hyp: hypLeft[c]!.id, overlap: overlaps[r]![c]! });
  }
  return matches;
}

function countTrajectories(trajectories: ReadonlyMap<number, TrajectoryStats>, test: (t: TrajectoryStats) => boolean): number {
  let n = 0;
  for (const t of trajectories.values()) if (test(t)) n++;
  return n;
}

/**
 * IDTP of the best one-to-one matching between whole gt and hyp trajectories.
 *
 * Ristani et al. minimise, over such matchings, IDFN + IDFP where a matched pair (g, h) costs
 * len(g) + len(h) − 2·overlap(g, h) (the frames where only one of them is right) and an unmatched
 * trajectory costs its length. Summed over any matching that is
 *   Σ len(g) + Σ len(h) − 2 · Σ_matched overlap(g, h),
 * and the first two sums do not depend on the matching, so minimising IDFN + IDFP is the same
 * as maximising the total overlap of matched pairs: a plain assignment on −overlap. Pairs with
 * zero overlap cost 0 there, the same as leaving both unmatched, so no dummy rows or columns are
 * needed. They must NOT be marked infeasible: solveAssignment maximises the number of feasible
 * pairs first, which could then prefer two small overlaps to one large one.
 */
function identityMetrics(frames: readonly TrackingFrame[], threshold: number): { idtp: number } {
  // overlap.get(g).get(h): frames in which gt g and hyp h are both present with IoU ≥ threshold.
  const overlap = new Map<number, Map<number, number>>();
  const hypIds = new Set<number>();
  for (const frame of frames) {
    for (const g of frame.gt) {
      for (const h of frame.hyp) {
        if (iou(g.box, h.box) < threshold) continue;
        let row = overlap.get(g.id);
        if (!row) overlap.set(g.id, (row = new Map()));
        row.set(h.id, (row.get(h.id) ?? 0) + 1);
        hypIds.add(h.id);
      }
    }
  }
  // Trajectories that never overlap anything stay unmatched whatever the matching, so only the
  // ones with some overlap go into the (cubic) assignment.
  const gts = [...overlap.values()];
  const hyps = [...hypIds];
  const cost = gts.map((row) => hyps.map((h) => -(row.get(h) ?? 0)));
  let idtp = 0;
  for (const [r, c] of solveAssignment(cost)) idtp -= cost[r]![c]!;
  return { idtp };
}
