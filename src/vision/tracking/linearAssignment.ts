/**
 * Minimum-cost linear assignment on a rectangular cost matrix (shortest augmenting paths with
 * dual potentials, i.e. the Hungarian method in its Jonker-Volgenant form; O(n²·m) for n ≤ m).
 *
 * Gating: an entry whose cost is above `maxCost`, or is not a finite number, is infeasible and is
 * never returned. Infeasible entries are replaced by a penalty larger than any possible sum of
 * feasible costs, so the solver first maximises the NUMBER of feasible pairs and only then
 * minimises their total cost; the infeasible pairs it was forced to make are dropped afterwards.
 * That is the convention of py-motmetrics / lap ("expensive edges"): it never trades a match
 * away just to save cost. Callers that want "fewer but cheaper" must encode that in the costs.
 */

/** A [row, col] pair of the chosen assignment. */
export type AssignmentPair = [number, number];

/**
 * Returns the assignment as [row, col] pairs sorted by row. Each row and each column appears at
 * most once. `cost[r][c]` is the cost of pairing row r with column c; all rows must have the same
 * length. Either dimension may be zero (the result is then empty).
 */
export function solveAssignment(cost: readonly (readonly number[])[], maxCost = Infinity): AssignmentPair[] {
  const rows = cost.length;
  const cols = checkRectangular(cost);
  if (rows === 0 || cols === 0) return [];

  const feasible = (value: number): boolean => Number.isFinite(value) && value <= maxCost;

  // The solver below needs at least as many columns as rows; solve the transpose otherwise.
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const m = transposed ? rows : cols;
  const at = (i: number, j: number): number => (transposed ? cost[j]![i]! : cost[i]![j]!);

  const padded = paddedMatrix(n, m, at, feasible);
  const rowToCol = minCostRowAssignment(padded, n, m);

  const pairs: AssignmentPair[] = [];
  for (let i = 0; i < n; i++) {
    const j = rowToCol[i]!;
    if (!feasible(at(i, j))) continue; // forced onto a padded entry: not a real match
    pairs.push(transposed ? [j, i] : [i, j]);
  }
  return pairs.sort((a, b) => a[0] - b[0]);
}

/**
 * Minimum-cost assignment in which leaving a row unmatched costs `unmatchedCost` (columns may stay
 * unmatched for free): a pair is made only where it is cheaper than leaving its row alone, and the
 * total Σ cost(pairs) + unmatchedCost × (unmatched rows) is minimal. This is "fewer but cheaper",
 * the convention of ByteTrack's lapjv call with a cost limit (there, each unmatched row and column
 * costs half the limit, which differs from this only by a constant): a tracker must not pair a
 * track with a poor detection just so that one more pair is made. Entries that are not finite are
 * never paired.
 */
export function solveAssignmentWithUnmatchedCost(cost: readonly (readonly number[])[], unmatchedCost: number): AssignmentPair[] {
  const rows = cost.length;
  const cols = checkRectangular(cost);
  if (rows === 0 || cols === 0) return [];
  // One private "unmatched" column per row; every row then has a feasible choice, so the count-first
  // rule of solveAssignment no longer applies and the total cost alone decides.
  const extended = cost.map((row, r) => [...row, ...Array.from({ length: rows }, (_, k) => (k === r ? unmatchedCost : Infinity))]);
  return solveAssignment(extended).filter(([, c]) => c < cols);
}

/** Column count of a matrix whose rows must all be equally long (a ragged matrix is a caller bug). */
function checkRectangular(cost: readonly (readonly number[])[]): number {
  const cols = cost[0]?.length ?? 0;
  for (const row of cost) {
    if (row.length !== cols) throw new RangeError(`solveAssignment: ragged cost matrix (row lengths ${cols} and ${row.length})`);
  }
  return cols;
}

/**
 * Row-major n×m copy of the costs, shifted so the cheapest feasible entry is 0 and with every
 * infeasible entry set to a penalty P. With feasible costs in [0, span], any full assignment
 * (n pairs) has a feasible part within [0, n·span]; P = n·span + 1 therefore makes one extra
 * infeasible pair always cost more than any difference in feasible cost, so the optimum has the
 * fewest infeasible pairs. Shifting every entry by the same constant changes every full
 * assignment's total by n times that constant, so it does not change which one is optimal; it
 * only keeps the numbers small (negative costs are allowed).
 */
function paddedMatrix(n: number, m: number, at: (i: number, j: number) => number, feasible: (value: number) => boolean): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const value = at(i, j);
      if (!feasible(value)) continue;
      lo = Math.min(lo, value);
      hi = Math.max(hi, value);
    }
  }
  const span = hi >= lo ? hi - lo : 0; // no feasible entry at all: everything is the penalty
  const penalty = n * span + 1;
  if (!Number.isFinite(penalty)) throw new RangeError('solveAssignment: feasible costs span too wide a range to gate safely');

  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const value = at(i, j);
      out[i * m + j] = feasible(value) ? value - lo : penalty;
    }
  }
  return out;
}

/**
 * Exact min-cost assignment of every row to a distinct column of a finite n×m matrix (n ≤ m),
 * returned as rowToCol. Adds one row at a time and grows a shortest-path tree (Dijkstra on
 * reduced costs, which the potentials u, v keep non-negative) until it reaches a free column,
 * then flips the matching along that path. Index 0 of the 1-based arrays is a virtual column
 * holding the row being inserted, which keeps the bookkeeping branch-free.
 */
function minCostRowAssignment(a: Float64Array, n: number, m: number): Int32Array {
  const u = new Float64Array(n + 1); // row potentials
  const v = new Float64Array(m + 1); // column potentials
  const owner = new Int32Array(m + 1); // owner[j]: 1-based row matched to column j, 0 if free
  const via = new Int32Array(m + 1); // via[j]: previous column on the shortest path to j
  const slack = new Float64Array(m + 1);
  const visited = new Uint8Array(m + 1);

  for (let row = 1; row <= n; row++) {
    owner[0] = row;
    let col = 0;
    slack.fill(Infinity);
    visited.fill(0);
    do {
      visited[col] = 1;
      const i = owner[col]!;
      let delta = Infinity;
      let next = 0;
      for (let j = 1; j <= m; j++) {
        if (visited[j]) continue;
        const reduced = a[(i - 1) * m + (j - 1)]! - u[i]! - v[j]!;
        if (reduced < slack[j]!) {
          slack[j] = reduced;
          via[j] = col;
        }
        if (slack[j]! < delta) {
          delta = slack[j]!;
          next = j;
        }
      }
      // Raise the tree's potentials by the smallest slack so at least one new column becomes tight.
      for (let j = 0; j <= m; j++) {
        if (visited[j]) {
          u[owner[j]!]! += delta;
          v[j]! -= delta;
        } else {
          slack[j]! -= delta;
        }
      }
      col = next;
    } while (owner[col] !== 0);
    // Augment: walk the path back to the virtual column, shifting each row one column along it.
    do {
      const prev = via[col]!;
      owner[col] = owner[prev]!;
      col = prev;
    } while (col !== 0);
  }

  const rowToCol = new Int32Array(n);
  for (let j = 1; j <= m; j++) if (owner[j]! > 0) rowToCol[owner[j]! - 1] = j - 1;
  return rowToCol;
}
