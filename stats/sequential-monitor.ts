/**
 * Applying a registered group-sequential design to the z-statistics observed at its looks.
 *
 * A design only controls alpha at the looks it was solved for, so a look that was not
 * registered is refused rather than compared with the nearest boundary: the fix is to register
 * the look (re-solve the design before traffic starts), not to improvise one mid-experiment.
 */
import type { SequentialDesign } from "./group-sequential.ts";

/** The verdict at one look. `look` is the 1-based index of the registered look. */
export type LookDecision = {
  look: number;
  informationFraction: number;
  z: number;
  boundary: number;
  decision: "reject" | "continue" | "accept";
  reason: string;
};

/** Fractions closer than this to a registered look are that look (they arrive via arithmetic). */
const FRACTION_TOLERANCE = 1e-9;

function describeLooks(design: SequentialDesign): string {
  return design.looks.map((t, i) => `#${i + 1} at t=${t}`).join(", ");
}

function unregistered(design: SequentialDesign, what: string): Error {
  return new Error(
    `${what} is not a registered look of this design; registered looks: ${describeLooks(design)}. ` +
      "Register extra looks by re-solving the design before the experiment starts.",
  );
}

/** Resolve `{ index }` or `{ fraction }` (or both, if they agree) to a 0-based look index. */
function resolveLook(design: SequentialDesign, look: { index?: number; fraction?: number }): number {
  const { index, fraction } = look;
  let fromIndex: number | undefined;
  let fromFraction: number | undefined;
  if (index !== undefined) {
    if (!Number.isInteger(index) || index < 1 || index > design.looks.length) {
      throw unregistered(design, `look index ${index}`);
    }
    fromIndex = index - 1;
  }
  if (fraction !== undefined) {
    const i = design.looks.findIndex((t) => Math.abs(t - fraction) <= FRACTION_TOLERANCE);
    if (i < 0) throw unregistered(design, `information fraction ${fraction}`);
    fromFraction = i;
  }
  if (fromIndex === undefined && fromFraction === undefined) {
    throw new Error(
      `a look needs an index or an information fraction; registered looks: ${describeLooks(design)}`,
    );
  }
  if (fromIndex !== undefined && fromFraction !== undefined && fromIndex !== fromFraction) {
    throw new Error(
      `look index ${index} and information fraction ${fraction} name different looks; ` +
        `registered looks: ${describeLooks(design)}`,
    );
  }
  return (fromIndex ?? fromFraction)!;
}

/**
 * Compare z at one registered look with that look's boundary: "reject" when |z| ≥ boundary,
 * "accept" at the final look without a crossing (the null stands), else "continue".
 * `look` is the 1-based index of a registered look OR its information fraction; an unregistered
 * look (index out of range, fraction not within 1e-9 of a registered one) throws an Error naming
 * the registered looks. Being stateless it cannot know an earlier look already stopped the
 * experiment: use SequentialMonitor to have looks after a stop refused.
 */
export function evaluateLook(
  design: SequentialDesign,
  look: { index?: number; fraction?: number },
  z: number,
): LookDecision {
  const k = resolveLook(design, look);
  if (!Number.isFinite(z)) throw new RangeError(`z at look #${k + 1} must be a finite number; got ${z}`);
  const boundary = design.boundaries[k]!;
  const t = design.looks[k]!;
  const final = k === design.looks.length - 1;
  const at = `look #${k + 1} of ${design.looks.length} (t=${t})`;
  const spent = `alpha spent through this look ${design.cumulativeAlpha[k]!.toPrecision(3)} of ${design.alpha}`;
  const shown = `|z| = ${Math.abs(z).toFixed(3)}`;
  const base = { look: k + 1, informationFraction: t, z, boundary };
  if (Math.abs(z) >= boundary) {
    return {
      ...base,
      decision: "reject",
      reason: `${shown} ≥ boundary ${boundary.toFixed(4)} at ${at}: stop and reject the null (${spent})`,
    };
  }
  if (final) {
    return {
      ...base,
      decision: "accept",
      reason: `${shown} < boundary ${boundary.toFixed(4)} at the final ${at}: no effect detected at alpha ${design.alpha}`,
    };
  }
  return {
    ...base,
    decision: "continue",
    reason: `${shown} < boundary ${boundary.toFixed(4)} at ${at}: continue to look #${k + 2} (t=${design.looks[k + 1]})`,
  };
}

/**
 * Stateful convenience over evaluateLook for one experiment's sequence of looks. It refuses a
 * look that repeats or precedes one already taken, and any look after a stop (reject or accept).
 * Skipping a registered look is allowed: its share of alpha simply goes unspent, which keeps
 * the design valid (conservative).
 */
export class SequentialMonitor {
  readonly #design: SequentialDesign;
  readonly #history: LookDecision[] = [];

  constructor(design: SequentialDesign) {
    this.#design = design;
  }

  /** Decisions so far, in order. */
  get history(): readonly LookDecision[] {
    return this.#history;
  }

  /** The decision that ended monitoring, if any. */
  get stopped(): LookDecision | undefined {
    const last = this.#history[this.#history.length - 1];
    return last && last.decision !== "continue" ? last : undefined;
  }

  /** Evaluate z at the registered look with information fraction `fraction`. */
  look(fraction: number, z: number): LookDecision {
    const registered = describeLooks(this.#design);
    const stop = this.stopped;
    if (stop) {
      throw new Error(
        `monitoring already stopped at look #${stop.look} (t=${stop.informationFraction}, ${stop.decision}); ` +
          `a look at t=${fraction} would spend alpha the design no longer has; registered looks: ${registered}`,
      );
    }
    const decision = evaluateLook(this.#design, { fraction }, z);
    const last = this.#history[this.#history.length - 1];
    if (last && decision.look <= last.look) {
      const what =
        decision.look === last.look ? "was already taken" : `comes before look #${last.look}, already taken`;
      throw new Error(
        `look #${decision.look} (t=${decision.informationFraction}) ${what}; ` +
          `looks must move forward; registered looks: ${registered}`,
      );
    }
    this.#history.push(decision);
    return decision;
  }
}
