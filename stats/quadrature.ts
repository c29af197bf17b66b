/**
 * Adaptive Gauss–Kronrod 7/15 quadrature with QUADPACK's error estimate and QAG bisection strategy.
 *
 * Written here because no maintained JavaScript package offers an adaptive integrator with
 * QUADPACK's error control; the Bayesian comparisons (stats/bayes.ts) need one accurate to 1e-10
 * on smooth, sharply peaked Beta integrands.
 */

// Gauss–Kronrod 7/15 nodes on [−1, 1] (QUADPACK qk15), shortest round-trip decimals.
const KRONROD_NODES = [
  0.9914553711208126, 0.9491079123427585, 0.8648644233597691, 0.7415311855993945, 0.5860872354676911,
  0.4058451513773972, 0.20778495500789848, 0,
];
const KRONROD_WEIGHTS = [
  0.022935322010529224, 0.06309209262997856, 0.10479001032225019, 0.14065325971552592, 0.1690047266392679,
  0.19035057806478542, 0.20443294007529889, 0.20948214108472782,
];
// Gauss weights for the Kronrod nodes with odd index (1, 3, 5, 7).
const GAUSS_WEIGHTS = [0.1294849661688697, 0.27970539148927664, 0.3818300505051189, 0.4179591836734694];

/** Relative accuracy of one evaluation of our integrands; a floor under each piece's error estimate. */
const EVALUATION_NOISE = 1e-11;
/** Pieces narrower than this fraction of the range count as exact (the integrands are bounded). */
const MIN_RELATIVE_WIDTH = 1e-12;
/** A backstop; ordinary inputs need a few dozen pieces. */
const MAX_PIECES = 1000;
/** At the backstop, an error this many times the target (~1e-8) is still accepted. */
const NOISE_ALLOWANCE = 100;

interface Piece {
  lo: number;
  hi: number;
  value: number;
  error: number;
}

function gaussKronrod(f: (x: number) => number, lo: number, hi: number): Piece {
  const center = (lo + hi) / 2;
  const half = (hi - lo) / 2;
  const values = new Array<number>(15);
  values[7] = f(center);
  for (let j = 0; j < 7; j++) {
    const dx = half * KRONROD_NODES[j]!;
    values[j] = f(center - dx);
    values[14 - j] = f(center + dx);
  }
  let kronrod = values[7]! * KRONROD_WEIGHTS[7]!;
  let gauss = values[7]! * GAUSS_WEIGHTS[3]!;
  for (let j = 0; j < 7; j++) {
    const pair = values[j]! + values[14 - j]!;
    kronrod += KRONROD_WEIGHTS[j]! * pair;
    if (j % 2 === 1) gauss += GAUSS_WEIGHTS[(j - 1) / 2]! * pair;
  }
  const mean = kronrod / 2;
  let spread = KRONROD_WEIGHTS[7]! * Math.abs(values[7]! - mean);
  for (let j = 0; j < 7; j++) {
    spread += KRONROD_WEIGHTS[j]! * (Math.abs(values[j]! - mean) + Math.abs(values[14 - j]! - mean));
  }
  // QUADPACK's scaling: |K − G| is the error of the 7-point rule; the 15-point result is far better
  // on smooth pieces, which (200 |K − G| / spread)^1.5 reflects.
  let error = Math.abs(kronrod - gauss) * half;
  spread *= half;
  if (spread > 0 && error > 0) error = spread * Math.min(1, ((200 * error) / spread) ** 1.5);
  // Nor can it be finer than the integrand's own accuracy (QUADPACK uses 50 ε; the Beta CDF of a
  // posterior with a, b near 10⁸ is good to ~1e-11), or rounding noise would be chased forever.
  error = Math.max(error, EVALUATION_NOISE * Math.abs(kronrod * half));
  return { lo, hi, value: kronrod * half, error };
}

/**
 * ∫ f over [points[0], points[last]], split first at the given breakpoints, then repeatedly
 * bisecting the piece with the largest error estimate (QUADPACK's QAG strategy) until the summed
 * estimate is at most max(absolute, relative × |integral|).
 */
export function integrate(
  f: (x: number) => number,
  points: readonly number[],
  absolute: number,
  relative = 0,
): number {
  const edges = [...new Set(points)].sort((x, y) => x - y);
  const minWidth = MIN_RELATIVE_WIDTH * (edges[edges.length - 1]! - edges[0]!);
  const pieces: Piece[] = [];
  for (let i = 0; i + 1 < edges.length; i++) pieces.push(gaussKronrod(f, edges[i]!, edges[i + 1]!));
  for (;;) {
    let worst = 0;
    let total = 0;
    let error = 0;
    pieces.forEach((piece, i) => {
      total += piece.value;
      error += piece.error;
      if (piece.error > pieces[worst]!.error) worst = i;
    });
    const target = Math.max(absolute, relative * Math.abs(total));
    if (error <= target) return total;
    if (pieces.length >= MAX_PIECES) {
      // Only noisier evaluations than EVALUATION_NOISE get here; still fine to ~1e-8.
      if (error <= NOISE_ALLOWANCE * target) return total;
      throw new Error(`quadrature stopped at error ${error} (target ${target}); please report the inputs`);
    }
    const piece = pieces[worst]!;
    if (piece.hi - piece.lo < minWidth) {
      piece.error = 0;
      continue;
    }
    const mid = (piece.lo + piece.hi) / 2;
    pieces.splice(worst, 1, gaussKronrod(f, piece.lo, mid), gaussKronrod(f, mid, piece.hi));
  }
}
