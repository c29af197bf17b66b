/**
 * Lan–DeMets alpha-spending functions: how much of a two-sided type I error budget a
 * group-sequential design may have used by information fraction t.
 *
 * Convention (gsDesign's, so our boundaries match the published tables): a symmetric two-sided
 * design at level α is two one-sided designs at α/2, and each side spends gsDesign's `sfLDOF` /
 * `sfLDPocock` evaluated at that one-sided α/2. For O'Brien–Fleming this is
 *
 *     per side   α₁(t) = 2 − 2Φ(Φ⁻¹(1 − α₁/2) / √t)   with α₁ = α/2
 *     two-sided  α(t)  = 2·α₁(t) = 4 − 4Φ(z_{1−α/4} / √t)
 *
 * which gives the textbook boundaries 4.3326, 2.9631, 2.3590, 2.0141 for four equal looks at
 * α = 0.05. The other reading, 2 − 2Φ(z_{1−α/2}/√t) applied to the two-sided α, spends far more
 * early (first boundary 3.92) and reproduces no published table. Pocock's function is linear in
 * α, so both readings agree: α(t) = α·ln(1 + (e − 1)t).
 */
import { normQuantile, normSf } from "./distributions.ts";

/** The spending-function families a design may use. */
export type SpendingKind = "obrien-fleming" | "pocock";

/**
 * Cumulative two-sided alpha spent at information fraction t (0 ≤ t ≤ 1); α(0) = 0, α(1) = α.
 * Throws a RangeError for α outside (0, 1) or t outside [0, 1].
 */
export function alphaSpent(kind: SpendingKind, alpha: number, t: number): number {
  if (!(alpha > 0 && alpha < 1)) {
    throw new RangeError(`alpha must be a two-sided level in (0, 1); got ${alpha}`);
  }
  if (!(t >= 0 && t <= 1)) {
    throw new RangeError(`information fraction must be in [0, 1]; got ${t}`);
  }
  if (t === 0) return 0;
  switch (kind) {
    case "obrien-fleming": {
      // Upper-tail forms throughout: early spends are ~1e-12 and 1 − Φ(x) would cancel to 0.
      const zQuarter = -normQuantile(alpha / 4);
      return 4 * normSf(zQuarter / Math.sqrt(t));
    }
    case "pocock":
      return alpha * Math.log1p((Math.E - 1) * t);
    default:
      throw new RangeError(`unknown spending function "${kind as string}"; use "obrien-fleming" or "pocock"`);
  }
}
