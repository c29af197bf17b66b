/**
 * Seeded simulations of repeated looks at an experiment. Under A/A (no effect) they show that
 * peeking with the fixed-horizon 1.96 inflates false positives, that spending-function designs
 * hold them at alpha, and that the mSPRT holds them under continuous monitoring; with a real
 * effect, that the sized sequential design keeps its promised power. Every run is deterministic
 * (fixed seeds); the accepted bands are about three binomial standard errors wide.
 */
import binomial from "@stdlib/random-base-binomial";
import normal from "@stdlib/random-base-normal";
import { describe, expect, it } from "vitest";
import { normQuantile } from "../../stats/distributions.ts";
import { groupSequentialDesign, inflationFactor } from "../../stats/group-sequential.ts";
import { MsprtMonitor, msprtTau2FromMde } from "../../stats/msprt.ts";

const ALPHA = 0.05;
const LOOKS = [0.25, 0.5, 0.75, 1];

/**
 * Share of experiments in which |Z| reaches the boundary at some look. The z-statistics at the
 * looks are drawn exactly: Z(t) = B(t)/√t for Brownian motion B with drift `drift` (the mean of
 * the final z), simulated through its independent increments.
 */
function rejectionRate(opts: {
  looks: number[];
  boundaries: number[];
  drift: number;
  experiments: number;
  seed: number;
}): number {
  const draw = normal.factory(0, 1, { seed: opts.seed });
  let rejections = 0;
  for (let e = 0; e < opts.experiments; e++) {
    let b = 0;
    let tPrev = 0;
    for (let k = 0; k < opts.looks.length; k++) {
      const t = opts.looks[k]!;
      b += Math.sqrt(t - tPrev) * draw() + opts.drift * (t - tPrev);
      tPrev = t;
      if (Math.abs(b / Math.sqrt(t)) >= opts.boundaries[k]!) {
        rejections++;
        break;
      }
    }
  }
  return rejections / opts.experiments;
}

describe("four looks at an A/A experiment (20,000 simulated experiments each)", () => {
  const experiments = 20_000;

  it("peeking with the fixed-horizon 1.96 at every look pushes false positives above 10%", () => {
    const naive = LOOKS.map(() => -normQuantile(ALPHA / 2));
    const rate = rejectionRate({ looks: LOOKS, boundaries: naive, drift: 0, experiments, seed: 11 });
    expect(rate).toBeGreaterThan(0.1);
  });

  it.each([
    { name: "O'Brien–Fleming, equal looks", spending: "obrien-fleming" as const, looks: LOOKS, seed: 12 },
    { name: "Pocock, equal looks", spending: "pocock" as const, looks: LOOKS, seed: 13 },
    {
      name: "O'Brien–Fleming, unequal looks",
      spending: "obrien-fleming" as const,
      looks: [0.2, 0.45, 0.7, 1],
      seed: 14,
    },
  ])("the $name design keeps false positives within [4.5%, 5.5%]", ({ spending, looks, seed }) => {
    const design = groupSequentialDesign({ looks, alpha: ALPHA, spending });
    const rate = rejectionRate({ looks, boundaries: design.boundaries, drift: 0, experiments, seed });
    expect(rate).toBeGreaterThanOrEqual(0.045);
    expect(rate).toBeLessThanOrEqual(0.055);
  });

  it("the O'Brien–Fleming design sized with its inflation factor rejects a real effect 80% of the time", () => {
    const design = groupSequentialDesign({ looks: LOOKS, alpha: ALPHA, spending: "obrien-fleming" });
    const power = 0.8;
    const fixedDrift = -normQuantile(ALPHA / 2) + normQuantile(power);
    // Scaling n by the inflation factor scales the final z's mean by its square root.
    const drift = fixedDrift * Math.sqrt(inflationFactor(design, power));
    const rate = rejectionRate({ looks: LOOKS, boundaries: design.boundaries, drift, experiments, seed: 15 });
    expect(rate).toBeGreaterThanOrEqual(0.79);
    expect(rate).toBeLessThanOrEqual(0.81);
  });
});

describe("mSPRT under continuous monitoring (4,000 simulated experiments each)", () => {
  const experiments = 4000;

  /**
   * A binary metric (baseline 0.6, MDE 0.05) read every 50 units per arm up to 5,000 per arm, with
   * the plug-in variance p̂_A(1 − p̂_A) + p̂_B(1 − p̂_B) as in the paper. Returns the share of
   * experiments the mSPRT ever rejects and the share a naive |z| ≥ 1.96 rule ever rejects.
   */
  function binaryRun(treatmentRate: number, seed: number): { msprt: number; naive: number } {
    const draw = binomial.factory({ seed });
    const batch = 50;
    const maxN = 5000;
    const tau2 = msprtTau2FromMde(0.05);
    let msprtRejections = 0;
    let naiveRejections = 0;
    for (let e = 0; e < experiments; e++) {
      const monitor = new MsprtMonitor({ tau2, alpha: ALPHA });
      let control = 0;
      let treatment = 0;
      let rejected = false;
      let peeked = false;
      for (let n = batch; n <= maxN; n += batch) {
        control += draw(batch, 0.6);
        treatment += draw(batch, treatmentRate);
        const pA = control / n;
        const pB = treatment / n;
        const variance = pA * (1 - pA) + pB * (1 - pB);
        const effect = pB - pA;
        if (!rejected && monitor.update(effect, variance, n).reject) rejected = true;
        if (Math.abs(effect) / Math.sqrt(variance / n) >= 1.96) peeked = true;
      }
      if (rejected) msprtRejections++;
      if (peeked) naiveRejections++;
    }
    return { msprt: msprtRejections / experiments, naive: naiveRejections / experiments };
  }

  it("keeps false positives at or below 5% on a binary metric read every 50 units, where naive peeking passes 20%", () => {
    const { msprt, naive } = binaryRun(0.6, 21);
    expect(msprt).toBeLessThanOrEqual(ALPHA);
    expect(naive).toBeGreaterThan(0.2);
  });

  it("keeps false positives at or below 5% on a continuous metric read after every unit", () => {
    const units = 2000;
    const variance = 2; // σ² = 1 in each arm, so one treatment-minus-control pair has variance 2
    const draw = normal.factory(0, Math.sqrt(variance), { seed: 22 });
    const tau2 = msprtTau2FromMde(0.1);
    let rejections = 0;
    for (let e = 0; e < experiments; e++) {
      const monitor = new MsprtMonitor({ tau2, alpha: ALPHA });
      let sum = 0;
      for (let n = 1; n <= units; n++) {
        sum += draw();
        if (monitor.update(sum / n, variance, n).reject) {
          rejections++;
          break;
        }
      }
    }
    expect(rejections / experiments).toBeLessThanOrEqual(ALPHA);
  });

  it("detects a real effect the size of the MDE in most experiments", () => {
    const { msprt } = binaryRun(0.65, 23);
    expect(msprt).toBeGreaterThan(0.9);
  });
});
