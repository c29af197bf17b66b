import { describe, expect, it } from "vitest";
import { normQuantile } from "../../stats/distributions.ts";
import {
  MsprtMonitor,
  msprtLikelihoodRatio,
  msprtPValue,
  msprtTau2ForHorizon,
  msprtTau2FromMde,
} from "../../stats/msprt.ts";
import reference from "../fixtures/sequential-reference.json" with { type: "json" };

describe("msprtLikelihoodRatio", () => {
  it.each(reference.msprt)(
    "equals the quadrature of the N(0, $tau2) mixture at effect $effect, V $variance, n $n",
    ({ effect, variance, n, tau2, likelihoodRatio }) => {
      const ours = msprtLikelihoodRatio({ effect, variance, n, tau2 });
      expect(Math.abs(ours - likelihoodRatio)).toBeLessThanOrEqual(1e-9 * likelihoodRatio);
    },
  );

  it("is below 1 with no observed effect, and grows with the effect and with n", () => {
    const at = (effect: number, n: number) =>
      msprtLikelihoodRatio({ effect, variance: 0.5, n, tau2: 0.0025 });
    expect(at(0, 1000)).toBeLessThan(1);
    expect(at(0.05, 1000)).toBeGreaterThan(at(0.03, 1000));
    expect(at(0.05, 4000)).toBeGreaterThan(at(0.05, 1000));
  });

  it("depends on variance and n only through the squared standard error V/n (unequal arms)", () => {
    const a = msprtLikelihoodRatio({ effect: 0.04, variance: 0.48, n: 1000, tau2: 0.0025 });
    const b = msprtLikelihoodRatio({ effect: 0.04, variance: 0.96, n: 2000, tau2: 0.0025 });
    expect(b).toBeCloseTo(a, 12);
  });

  it("reports overwhelming evidence as Infinity and a p-value of 0, not NaN", () => {
    const opts = { effect: 1, variance: 0.5, n: 1e6, tau2: 0.01 };
    expect(msprtLikelihoodRatio(opts)).toBe(Number.POSITIVE_INFINITY);
    expect(msprtPValue(opts)).toBe(0);
  });

  it.each([
    { field: "variance", opts: { effect: 0.1, variance: 0, n: 10, tau2: 0.01 } },
    { field: "n", opts: { effect: 0.1, variance: 1, n: -1, tau2: 0.01 } },
    { field: "tau2", opts: { effect: 0.1, variance: 1, n: 10, tau2: Number.NaN } },
    { field: "effect", opts: { effect: Number.POSITIVE_INFINITY, variance: 1, n: 10, tau2: 0.01 } },
  ])("refuses a bad $field, naming it", ({ field, opts }) => {
    expect(() => msprtLikelihoodRatio(opts)).toThrow(new RegExp(`^${field} must be`));
  });
});

describe("msprtPValue", () => {
  it("is min(1, 1/Λ)", () => {
    const weak = { effect: 0.01, variance: 0.48, n: 1000, tau2: 0.0025 };
    const strong = { effect: 0.06, variance: 0.48, n: 3000, tau2: 0.0025 };
    expect(msprtPValue(weak)).toBe(1);
    expect(msprtPValue(strong)).toBeCloseTo(1 / msprtLikelihoodRatio(strong), 14);
  });

  it("is more demanding than the fixed-horizon p-value at the same z", () => {
    // z = 2.5 has a fixed-horizon p of 0.012; the always-valid p must be larger.
    const variance = 0.48;
    const n = 2000;
    const effect = 2.5 * Math.sqrt(variance / n);
    expect(msprtPValue({ effect, variance, n, tau2: 0.0025 })).toBeGreaterThan(0.05);
  });
});

describe("MsprtMonitor", () => {
  it("keeps a running minimum, so a rejection sticks when later data look weaker", () => {
    const monitor = new MsprtMonitor({ tau2: 0.0025, alpha: 0.05 });
    const v = 0.48;
    const first = monitor.update(0.02, v, 500);
    expect(first.pValue).toBe(1);
    const strong = monitor.update(0.07, v, 2000);
    expect(strong.reject).toBe(true);
    const weaker = monitor.update(0.01, v, 3000);
    expect(weaker.pValue).toBe(strong.pValue);
    expect(weaker.reject).toBe(true);
    expect(monitor.pValue).toBe(strong.pValue);
  });

  it("refuses summaries whose n per arm goes down", () => {
    const monitor = new MsprtMonitor({ tau2: 0.0025, alpha: 0.05 });
    monitor.update(0, 0.5, 1000);
    expect(() => monitor.update(0, 0.5, 900)).toThrow(/n per arm went down from 1000 to 900/);
  });

  it.each([
    { tau2: 0, alpha: 0.05, message: /tau2 must be/ },
    { tau2: 0.01, alpha: 1, message: /alpha must be in \(0, 1\)/ },
  ])("refuses tau2 $tau2 with alpha $alpha", ({ tau2, alpha, message }) => {
    expect(() => new MsprtMonitor({ tau2, alpha })).toThrow(message);
  });
});

describe("choosing tau2", () => {
  it("sets the default from the MDE as MDE²", () => {
    expect(msprtTau2FromMde(0.05)).toBeCloseTo(0.0025, 15);
    expect(msprtTau2FromMde(-0.05)).toBeCloseTo(0.0025, 15);
    expect(() => msprtTau2FromMde(0)).toThrow(/mde must be a nonzero finite number/);
  });

  it("makes the horizon tau2 reject the smallest |z| at the planned n", () => {
    const alpha = 0.05;
    const variance = 0.48;
    const n = 1500;
    const tau2 = msprtTau2ForHorizon({ alpha, variance, n });
    // The z at which the tuned test just rejects: z² = (1 + 1/r)(2 ln(1/α) + ln(1 + r)).
    const r = (n * tau2) / variance;
    const z = Math.sqrt((1 + 1 / r) * (-2 * Math.log(alpha) + Math.log1p(r)));
    const effect = z * Math.sqrt(variance / n);
    expect(msprtPValue({ effect, variance, n, tau2 })).toBeCloseTo(alpha, 12);
    for (const scale of [0.5, 0.8, 1.25, 2]) {
      expect(msprtPValue({ effect, variance, n, tau2: tau2 * scale })).toBeGreaterThan(alpha);
    }
  });

  it("agrees with MDE² to within 10% when n is the fixed-horizon size for that MDE at 80% power", () => {
    const alpha = 0.05;
    const variance = 0.48;
    const mde = 0.05;
    const drift = -normQuantile(alpha / 2) + normQuantile(0.8);
    const n = (variance * drift * drift) / (mde * mde);
    const ratio = msprtTau2ForHorizon({ alpha, variance, n }) / msprtTau2FromMde(mde);
    expect(ratio).toBeGreaterThan(1);
    expect(ratio).toBeLessThan(1.1);
  });
});
