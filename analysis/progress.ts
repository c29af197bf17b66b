/**
 * Where an analysis stands on its plan: the information observed so far and, for a sequential
 * design, which registered look this is and the boundary at the information actually observed.
 */
import type { Progress } from "../stats/decision.ts";
import { groupSequentialDesign } from "../stats/group-sequential.ts";
import type { ArmStats } from "./metric-tests.ts";
import type { ExperimentPlan } from "./plan.ts";

/** Registered looks are matched with this slack: 24.5 % of the information counts as the 25 % look. */
export const LOOK_TOLERANCE = 0.02;
/** Closest two looks may be in information (the boundary recursion's limit). */
const MIN_LOOK_GAP = 0.001;

/**
 * Observed ÷ planned statistical information, for the primary metric furthest from its plan.
 * Information of a difference of means grows as 1/(1/n_C + 1/n_T), so with unequal arms (a ramp,
 * a canary) neither arm's count alone measures it; and n counts units with an outcome of that
 * metric, not units assigned.
 */
export function informationFraction(
  plan: ExperimentPlan,
  observed: Map<string, { control: ArmStats; treatment: ArmStats }>,
): number {
  const info = (nc: number, nt: number) => (nc > 0 && nt > 0 ? 1 / (1 / nc + 1 / nt) : 0);
  const fractions = plan.metrics.map((m) => {
    const o = observed.get(m.name);
    return o ? info(o.control.n, o.treatment.n) / info(m.max.control, m.max.treatment) : 0;
  });
  return fractions.length === 0 ? 0 : Math.min(...fractions);
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/**
 * The registered look this analysis is (`look`, 1-based, or the last one the information has
 * reached), with its boundary recomputed at the observed information: Lan–DeMets spending is
 * evaluated at the information actually reached, earlier looks at their registered fractions
 * (gsDesign's practice when a look's timing drifts). A declared look the data cannot be (less
 * information than the look before it) is refused.
 */
export function progressOf(plan: ExperimentPlan, fraction: number, look: number | undefined): Progress {
  const design = plan.sequential;
  if (!design) return { kind: "fixed", fraction };
  const looks = design.looks;
  let index: number | null = null;
  if (look !== undefined) {
    if (!Number.isInteger(look) || look < 1 || look > looks.length) {
      throw new RangeError(
        `--look ${look}: not a registered look (registered: 1..${looks.length} at ${looks.join(", ")})`,
      );
    }
    index = look - 1;
    const previous = looks[index - 1];
    if (previous !== undefined && fraction + LOOK_TOLERANCE < previous) {
      throw new RangeError(
        `--look ${look}: the data hold ${pct(fraction)} of the planned information, less than look ${index} (${pct(previous)}); this cannot be look ${look}`,
      );
    }
  } else {
    looks.forEach((t, i) => {
      if (fraction + LOOK_TOLERANCE >= t) index = i;
    });
  }
  if (index === null) return { kind: "sequential", design, lookIndex: null };
  const prior = looks.slice(0, index);
  const floor = (prior.at(-1) ?? 0) + MIN_LOOK_GAP;
  // The final look spends whatever alpha is left, whatever its timing; an interim look reached at
  // (almost) full information is as good as final.
  if (index === looks.length - 1 || fraction >= 1 - MIN_LOOK_GAP) {
    return { kind: "sequential", design, lookIndex: index, boundary: design.boundaries.at(-1)! };
  }
  const at = Math.min(Math.max(fraction, floor), 1 - MIN_LOOK_GAP);
  const actual = groupSequentialDesign({
    looks: [...prior, at, 1],
    alpha: design.alpha,
    spending: design.spending,
  });
  return { kind: "sequential", design, lookIndex: index, boundary: actual.boundaries[index]! };
}
