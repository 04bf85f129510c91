import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/common/seededRandom.js';
import { solveAssignment, solveAssignmentWithUnmatchedCost } from '../../src/vision/tracking/linearAssignment.js';

const totalCost = (cost: number[][], pairs: [number, number][]): number => pairs.reduce((sum, [r, c]) => sum + cost[r]![c]!, 0);

/** Checks the shape of any valid answer: sorted by row, each row and column used once, only feasible pairs. */
function expectValid(cost: number[][], pairs: [number, number][], maxCost = Infinity): void {
  const rows = pairs.map(([r]) => r);
  const cols = pairs.map(([, c]) => c);
  expect(rows).toEqual([...rows].sort((a, b) => a - b));
  expect(new Set(rows).size).toBe(rows.length);
  expect(new Set(cols).size).toBe(cols.length);
  for (const [r, c] of pairs) {
    const value = cost[r]![c]!;
    expect(Number.isFinite(value) && value <= maxCost).toBe(true);
  }
}

/**
 * Brute force over every way to give each row a distinct column or none: the best answer has the
 * most feasible pairs, then the least total cost (the documented contract of solveAssignment).
 */
function bruteForce(cost: number[][], maxCost: number): { count: number; total: number } {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  const used = new Array<boolean>(cols).fill(false);
  let best = { count: 0, total: 0 };
  const visit = (r: number, count: number, total: number): void => {
    if (r === rows) {
      if (count > best.count || (count === best.count && total < best.total)) best = { count, total };
      return;
    }
    visit(r + 1, count, total); // row r left unassigned
    for (let c = 0; c < cols; c++) {
      const value = cost[r]![c]!;
      if (used[c] || !Number.isFinite(value) || value > maxCost) continue;
      used[c] = true;
      visit(r + 1, count + 1, total + value);
      used[c] = false;
    }
  };
  visit(0, 0, 0);
  return best;
}

describe('solveAssignment', () => {
  it('finds the global optimum where greedy cheapest-first does not', () => {
    // Greedy takes (0,0)=1 and is left with (1,1)=100: 101. Optimal is (0,1)+(1,0) = 2+2 = 4.
    const cost = [
      [1, 2],
      [2, 100],
    ];
    expect(solveAssignment(cost)).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('solves a 3×3 case whose optimum is a full cycle, not the diagonal', () => {
    // The diagonal costs 4+5+6 = 15; the best permutation is (0,1),(1,2),(2,0) = 1+1+1 = 3.
    const cost = [
      [4, 1, 9],
      [9, 5, 1],
      [1, 9, 6],
    ];
    const pairs = solveAssignment(cost);
    expect(pairs).toEqual([
      [0, 1],
      [1, 2],
      [2, 0],
    ]);
    expect(totalCost(cost, pairs)).toBe(3);
  });

  it('handles more columns than rows', () => {
    // Row 1's cheapest column is 2 (0), which leaves row 0 with col 1 (3): total 3. Better is to give
    // col 2 to row 0 (1) and col 0 to row 1 (1): total 2.
    const cost = [
      [5, 3, 1, 7],
      [1, 8, 0, 9],
    ];
    expect(solveAssignment(cost)).toEqual([
      [0, 2],
      [1, 0],
    ]);
  });

  it('handles more rows than columns, returning pairs sorted by row', () => {
    // Transpose of the previous case: rows 0 and 2 are the ones assigned.
    const cost = [
      [5, 1],
      [3, 8],
      [1, 0],
      [7, 9],
    ];
    expect(solveAssignment(cost)).toEqual([
      [0, 1],
      [2, 0],
    ]);
  });

  it('returns nothing for empty matrices in either dimension', () => {
    expect(solveAssignment([])).toEqual([]);
    expect(solveAssignment([[], [], []])).toEqual([]);
  });

  it('solves a 1×1 matrix', () => {
    expect(solveAssignment([[42]])).toEqual([[0, 0]]);
    expect(solveAssignment([[42]], 41)).toEqual([]);
  });

  it('never returns a pair above maxCost, and keeps an exactly-maxCost pair', () => {
    const cost = [
      [1, 60],
      [60, 100],
    ];
    expect(solveAssignment(cost, 50)).toEqual([[0, 0]]);
    expect(solveAssignment(cost, 60)).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('treats non-finite costs as infeasible', () => {
    const cost = [
      [Infinity, 2, NaN],
      [3, -Infinity, Infinity],
    ];
    expect(solveAssignment(cost)).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(solveAssignment([[NaN, Infinity]])).toEqual([]);
  });

  it('prefers more feasible pairs over a lower total (gating by padding, not by dropping)', () => {
    // (0,0) alone costs 1; (0,1)+(1,0) costs 20 but matches two pairs, and that is the contract.
    const cost = [
      [1, 10],
      [10, Infinity],
    ];
    expect(solveAssignment(cost)).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('routes around an infeasible entry to keep every row matched', () => {
    // Cheapest overall would put row 1 on col 1 (cost 0) but row 2 can only go there;
    // the max-cardinality optimum is (0,0)+(1,2)+(2,1) = 2+3+5 = 10.
    const cost = [
      [2, 9, 9],
      [9, 0, 3],
      [Infinity, 5, Infinity],
    ];
    const pairs = solveAssignment(cost);
    expect(pairs).toEqual([
      [0, 0],
      [1, 2],
      [2, 1],
    ]);
    expect(totalCost(cost, pairs)).toBe(10);
  });

  it('accepts negative costs (e.g. negated scores to maximise)', () => {
    const cost = [
      [-3, -1],
      [-4, -5],
    ];
    // (0,0)+(1,1) = -8 beats (0,1)+(1,0) = -5.
    expect(solveAssignment(cost)).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });

  it('rejects a ragged matrix', () => {
    expect(() => solveAssignment([[1, 2], [3]])).toThrow(RangeError);
  });

  it('does not modify its input', () => {
    const cost = [
      [1, 2],
      [2, Infinity],
    ];
    const copy = cost.map((row) => [...row]);
    solveAssignment(cost, 5);
    expect(cost).toEqual(copy);
  });

  it('matches brute force on random small matrices, with ties, negatives and gating', () => {
    const random = seededRandom(20240611);
    for (let trial = 0; trial < 600; trial++) {
      const rows = Math.floor(random() * 6); // 0..5
      const cols = Math.floor(random() * 6);
      const integer = random() < 0.4; // small integers make many ties
      const infeasibleShare = random() < 0.5 ? 0 : random() * 0.6;
      const cost = Array.from({ length: rows }, () =>
        Array.from({ length: cols }, () => {
          if (random() < infeasibleShare) return Infinity;
          return integer ? Math.floor(random() * 5) - 1 : random() * 20 - 5;
        }),
      );
      const maxCost = random() < 0.5 ? Infinity : random() * 15;
      const pairs = solveAssignment(cost, maxCost);
      expectValid(cost, pairs, maxCost);
      const best = bruteForce(cost, maxCost);
      expect(pairs.length, `trial ${trial}`).toBe(best.count);
      expect(totalCost(cost, pairs)).toBeCloseTo(best.total, 9);
    }
  });

  it('scales to a few hundred rows and stays optimal against a known planted optimum', () => {
    // A permutation planted at cost 0 among costs ≥ 1 is the unique optimum.
    const random = seededRandom(7);
    const n = 300;
    const perm = Array.from({ length: n }, (_, k) => k);
    for (let k = n - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1));
      [perm[k], perm[j]] = [perm[j]!, perm[k]!];
    }
    const cost = Array.from({ length: n }, (_, r) => Array.from({ length: n + 20 }, (_, c) => (perm[r] === c ? 0 : 1 + random())));
    // Correctness only: a time bound here would flake on a loaded machine.
    const pairs = solveAssignment(cost);
    expect(pairs).toEqual(perm.map((c, r) => [r, c]));
  });
});

describe('solveAssignmentWithUnmatchedCost (fewer but cheaper)', () => {
  it('leaves a row unmatched rather than pairing crosswise just to make one more pair', () => {
    // Track 0 fits detection 1 well (0.4); track 1 fits only detection 1, poorly (0.85); track 0 also
    // fits detection 0 poorly (0.8). Count-first makes two pairs (0.8 + 0.85); fewer-but-cheaper one.
    const cost = [
      [0.8, 0.4],
      [Infinity, 0.85],
    ];
    expect(solveAssignment(cost, 0.9)).toEqual([[0, 0], [1, 1]]);
    expect(solveAssignmentWithUnmatchedCost(cost, 0.9)).toEqual([[0, 1]]);
    // With leaving a row cheap, nothing pairs; with it dear, both do again.
    expect(solveAssignmentWithUnmatchedCost(cost, 0.3)).toEqual([]);
    expect(solveAssignmentWithUnmatchedCost(cost, 5)).toEqual([[0, 0], [1, 1]]);
  });

  it('never pairs an infinite entry, and handles empty and wide or tall matrices', () => {
    expect(solveAssignmentWithUnmatchedCost([], 1)).toEqual([]);
    expect(solveAssignmentWithUnmatchedCost([[Infinity, Infinity]], 1)).toEqual([]);
    expect(solveAssignmentWithUnmatchedCost([[0.5], [0.2], [0.9]], 1)).toEqual([[1, 0]]);
    expect(solveAssignmentWithUnmatchedCost([[0.5, 0.1, 0.9]], 1)).toEqual([[0, 1]]);
  });
});
