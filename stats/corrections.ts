/**
 * Multiple-testing corrections for a family of p-values (secondary metrics, segments, rubric axes).
 *
 * The arithmetic follows statsmodels' `multipletests` step for step (sort, scale by rank, enforce
 * monotonicity, cap at 1) so our adjusted values match the reference to the last bit or two and a
 * reader can check them against the library everyone already trusts.
 */

/** Which correction to apply; `benjamini-hochberg` controls the false discovery rate, the others the family-wise error. */
export type Correction = "none" | "bonferroni" | "holm" | "benjamini-hochberg";

/**
 * Adjusted p-values in input order, capped at 1 (statsmodels `multipletests` conventions:
 * `bonferroni`, `holm`, `fdr_bh`). Compare each adjusted value with the unadjusted alpha.
 *
 * @throws RangeError when a p-value is NaN or outside [0, 1], naming its index.
 */
export function adjustPValues(pValues: readonly number[], method: Correction): number[] {
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) {
      throw new RangeError(`pValues[${i}] is ${p}; a p-value must be a number in [0, 1]`);
    }
  });
  const m = pValues.length;
  switch (method) {
    case "none":
      return [...pValues];
    case "bonferroni":
      return pValues.map((p) => Math.min(1, p * m));
    case "holm":
      return stepwise(pValues, (p, rank) => p * (m - rank + 1), "step-down");
    case "benjamini-hochberg":
      // statsmodels divides by the ECDF factor rank/m rather than multiplying by m/rank; same value,
      // but dividing reproduces its rounding exactly.
      return stepwise(pValues, (p, rank) => p / (rank / m), "step-up");
    default:
      throw new RangeError(
        `unknown correction "${String(method)}"; use none, bonferroni, holm or benjamini-hochberg`,
      );
  }
}

/**
 * Shared skeleton of the rank-based procedures: scale each sorted p-value by a function of its
 * 1-based rank, then make the sequence monotone. Holm (step-down) carries the running maximum
 * upwards from the smallest p; BH (step-up) carries the running minimum downwards from the largest.
 * Ties get the same adjusted value either way, so the sort need not be stable.
 */
function stepwise(
  pValues: readonly number[],
  scale: (p: number, rank: number) => number,
  direction: "step-down" | "step-up",
): number[] {
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[a]! - pValues[b]!);
  const scaled = order.map((index, k) => scale(pValues[index]!, k + 1));
  if (direction === "step-down") {
    for (let k = 1; k < scaled.length; k++) scaled[k] = Math.max(scaled[k]!, scaled[k - 1]!);
  } else {
    for (let k = scaled.length - 2; k >= 0; k--) scaled[k] = Math.min(scaled[k]!, scaled[k + 1]!);
  }
  const adjusted = new Array<number>(pValues.length);
  order.forEach((index, k) => {
    adjusted[index] = Math.min(1, scaled[k]!);
  });
  return adjusted;
}
