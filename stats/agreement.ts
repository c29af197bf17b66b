/**
 * Judge–human agreement on the audit set: raw share of identical labels and Cohen's kappa, which
 * discounts the agreement two raters would reach by chance from their label frequencies alone.
 * A judge that calls almost everything a treatment win agrees often with a human who does too,
 * without having judged anything; kappa is what the gate holds to a policy minimum.
 */
import { normQuantile } from "./distributions.ts";
import type { Interval } from "./effect.ts";

/** Agreement of two raters over the same items. */
export interface Agreement {
  /** Number of items both rated. */
  n: number;
  /** Share of items with identical labels (p_o). */
  raw: number;
  /** Cohen's kappa, (p_o − p_e) / (1 − p_e). */
  kappa: number;
  /** Asymptotic standard error of kappa (statsmodels `std_kappa`, not the null-hypothesis `std_kappa0`). */
  se: number;
  /** Two-sided 1 − alpha normal interval kappa ∓ z·se, not clipped to [−1, 1]. */
  ci: Interval;
}

/**
 * Cohen's (unweighted) kappa of labels `a` against labels `b`, item i of each being the same
 * item. Matches statsmodels `inter_rater.cohens_kappa(table)` on the confusion table (rows a,
 * columns b, in the order of `categories`): `kappa`, `se` = its `std_kappa` (the large-sample
 * variance of Fleiss, Cohen & Everitt 1969, which does not assume kappa = 0, so it suits an
 * interval), and `ci` = kappa ∓ Φ⁻¹(1 − alpha/2)·se, which is statsmodels' `kappa_low`/`kappa_upp`
 * at alpha 0.05 (statsmodels' own `alpha` field is the one-sided 0.025). Like statsmodels, the
 * interval is not clipped: a bound past 1 means the sample is too small to say more.
 *
 * Both raters putting every item in one and the same category makes chance agreement p_e = 1 and
 * kappa 0/0; raw agreement is then 1 and kappa is defined as 1, with se 0 and ci [1, 1]. Perfect
 * agreement in general has se 0 by the formula (tiny negative rounding is clamped to 0).
 *
 * Throws a RangeError for lists of different lengths, no items, duplicate or no categories, a
 * label outside `categories`, or alpha outside (0, 1).
 */
export function cohenKappa(
  a: readonly string[],
  b: readonly string[],
  categories: readonly string[],
  alpha: number,
): Agreement {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`cohenKappa: alpha must be in (0, 1), got ${alpha}`);
  if (a.length !== b.length) {
    throw new RangeError(
      `cohenKappa: rater a has ${a.length} labels but rater b has ${b.length}; both must label the same items`,
    );
  }
  const n = a.length;
  if (n === 0) throw new RangeError("cohenKappa: no labelled items; agreement needs at least one");
  const index = categoryIndex(categories);
  const k = categories.length;
  const table = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < n; i++) {
    const r = labelIndex(index, categories, "a", i, a[i]!);
    const c = labelIndex(index, categories, "b", i, b[i]!);
    table[r]![c]!++;
  }
  // Marginals and the agreement share from counts, as statsmodels forms them (count / n).
  const p = table.map((row) => row.map((count) => count / n));
  const rows = table.map((row) => row.reduce((s, x) => s + x, 0) / n);
  const cols = categories.map((_, j) => table.reduce((s, row) => s + row[j]!, 0) / n);
  const raw = table.reduce((s, row, i) => s + row[i]!, 0) / n;
  let chance = 0;
  for (let i = 0; i < k; i++) chance += rows[i]! * cols[i]!;
  if (onlyOneCategory(rows, cols)) return { n, raw, kappa: 1, se: 0, ci: [1, 1] };
  const kappa = (raw - chance) / (1 - chance);
  const se = Math.sqrt(Math.max(0, kappaVariance(p, rows, cols, kappa, chance, n)));
  const half = normQuantile(1 - alpha / 2) * se;
  return { n, raw, kappa, se, ci: [kappa - half, kappa + half] };
}

/**
 * Fleiss, Cohen & Everitt (1969) large-sample variance of kappa, term by term as statsmodels
 * writes it: A = Σ_i p_ii (1 − (r_i + c_i)(1 − κ))², B = (1 − κ)² Σ_{i≠j} p_ij (c_i + r_j)²,
 * C = (κ − p_e (1 − κ))², var = (A + B − C) / ((1 − p_e)² n).
 */
function kappaVariance(
  p: readonly (readonly number[])[],
  rows: readonly number[],
  cols: readonly number[],
  kappa: number,
  chance: number,
  n: number,
): number {
  let termA = 0;
  let termB = 0;
  p.forEach((row, i) => {
    row.forEach((pij, j) => {
      if (i === j) termA += pij * (1 - (rows[i]! + cols[i]!) * (1 - kappa)) ** 2;
      else termB += pij * (cols[i]! + rows[j]!) ** 2;
    });
  });
  termB *= (1 - kappa) ** 2;
  const termC = (kappa - chance * (1 - kappa)) ** 2;
  return (termA + termB - termC) / ((1 - chance) ** 2 * n);
}

/** True when both raters used one and the same category for every item (p_e = 1). */
function onlyOneCategory(rows: readonly number[], cols: readonly number[]): boolean {
  return rows.some((r, i) => r === 1 && cols[i] === 1);
}

function categoryIndex(categories: readonly string[]): Map<string, number> {
  if (categories.length === 0)
    throw new RangeError("cohenKappa: categories is empty; list every label in use");
  const index = new Map<string, number>();
  categories.forEach((c, i) => {
    if (index.has(c)) throw new RangeError(`cohenKappa: category ${JSON.stringify(c)} is listed twice`);
    index.set(c, i);
  });
  return index;
}

function labelIndex(
  index: ReadonlyMap<string, number>,
  categories: readonly string[],
  rater: string,
  item: number,
  label: string,
): number {
  const i = index.get(label);
  if (i === undefined) {
    throw new RangeError(
      `cohenKappa: rater ${rater}, item ${item}: label ${JSON.stringify(label)} is not one of ${categories
        .map((c) => JSON.stringify(c))
        .join(", ")}`,
    );
  }
  return i;
}
