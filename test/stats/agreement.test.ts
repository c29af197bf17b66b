import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cohenKappa } from "../../stats/agreement.ts";
import { loadFixture } from "../helpers/reference.ts";

interface KappaCase {
  name: string;
  a: string[];
  b: string[];
  categories: string[];
  alpha: number;
  n: number;
  raw: number;
  kappa: number;
  se: number;
  ci: [number, number];
}

const reference = loadFixture<{ kappa: KappaCase[] }>("gate_stats_reference.json");

/** Within 1e-9 relative of statsmodels. */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    1e-9 * Math.abs(expected),
  );
}

/** Aligned label lists whose confusion table (rows a, columns b) is `table`. */
function labels(table: number[][], categories: string[]): { a: string[]; b: string[] } {
  const a: string[] = [];
  const b: string[] = [];
  table.forEach((row, i) => {
    row.forEach((count, j) => {
      for (let k = 0; k < count; k++) {
        a.push(categories[i]!);
        b.push(categories[j]!);
      }
    });
  });
  return { a, b };
}

const VERDICTS = ["treatment", "tie", "control"];
const labelPairs = fc.array(fc.tuple(fc.constantFrom(...VERDICTS), fc.constantFrom(...VERDICTS)), {
  minLength: 1,
  maxLength: 120,
});

describe("cohenKappa", () => {
  it.each(reference.kappa)("matches statsmodels cohens_kappa on $name", (c) => {
    const r = cohenKappa(c.a, c.b, c.categories, c.alpha);
    expect(r.n).toBe(c.n);
    expectNear(r.raw, c.raw);
    expectNear(r.kappa, c.kappa);
    expectNear(r.se, c.se);
    expectNear(r.ci[0], c.ci[0]);
    expectNear(r.ci[1], c.ci[1]);
  });

  it("agrees with the 2 × 2 example worked by hand", () => {
    // Rater a says yes 25 times, rater b 30 times, out of 50; both yes 20, both no 15:
    //   p_o = (20 + 15) / 50 = 0.7
    //   p_e = P(a yes)·P(b yes) + P(a no)·P(b no) = 0.5 · 0.6 + 0.5 · 0.4 = 0.5
    //   κ   = (0.7 − 0.5) / (1 − 0.5) = 0.4
    // Fleiss–Cohen–Everitt variance with cells p = [[.4, .1], [.2, .3]], rows r = (.5, .5),
    // columns c = (.6, .4):
    //   A = .4 (1 − (.5 + .6)·.6)² + .3 (1 − (.5 + .4)·.6)² = .04624 + .06348 = .10972
    //   B = (1 − κ)² [.1 (c₁ + r₂)² + .2 (c₂ + r₁)²] = .36 (.1 · 1.21 + .2 · .81) = .10188
    //   C = (κ − p_e (1 − κ))² = (.4 − .3)² = .01
    //   var = (A + B − C) / ((1 − p_e)² n) = .2016 / 12.5 = .016128, se = √.016128 ≈ 0.126996
    const { a, b } = labels(
      [
        [20, 5],
        [10, 15],
      ],
      ["yes", "no"],
    );
    const r = cohenKappa(a, b, ["yes", "no"], 0.05);
    expect(r.n).toBe(50);
    expect(r.raw).toBe(0.7);
    expect(r.kappa).toBeCloseTo(0.4, 14);
    expect(r.se).toBeCloseTo(Math.sqrt(0.016128), 14);
    expect(r.ci[0]).toBeCloseTo(0.4 - 1.959963984540054 * Math.sqrt(0.016128), 12);
  });

  it("defines kappa as 1 when both raters put every item in the same category", () => {
    const same = ["pass", "pass", "pass", "pass"];
    expect(cohenKappa(same, same, ["pass", "fail"], 0.05)).toEqual({
      n: 4,
      raw: 1,
      kappa: 1,
      se: 0,
      ci: [1, 1],
    });
  });

  it("gives kappa 1 with se 0 for perfect agreement over several categories", () => {
    const a = ["x", "y", "z", "x", "y", "x"];
    const r = cohenKappa(a, a, ["x", "y", "z"], 0.05);
    expect(r).toMatchObject({ raw: 1, kappa: 1, se: 0, ci: [1, 1] });
  });

  it("does not depend on the order of the categories", () => {
    const c = reference.kappa.find((k) => k.name === "three verdicts")!;
    const r = cohenKappa(c.a, c.b, [...c.categories].reverse(), c.alpha);
    expectNear(r.kappa, c.kappa);
    expectNear(r.se, c.se);
  });

  it.each([
    {
      name: "lists of different lengths",
      a: ["yes", "no"],
      b: ["yes"],
      categories: ["yes", "no"],
      message: /rater a has 2 labels but rater b has 1/,
    },
    { name: "no items", a: [], b: [], categories: ["yes", "no"], message: /no labelled items/ },
    {
      name: "a label outside the categories",
      a: ["yes", "no"],
      b: ["yes", "maybe"],
      categories: ["yes", "no"],
      message: /rater b, item 1: label "maybe" is not one of "yes", "no"/,
    },
    { name: "no categories", a: ["yes"], b: ["yes"], categories: [], message: /categories is empty/ },
    {
      name: "a category listed twice",
      a: ["yes"],
      b: ["yes"],
      categories: ["yes", "no", "yes"],
      message: /"yes" is listed twice/,
    },
  ])("throws a RangeError for $name", ({ a, b, categories, message }) => {
    const run = () => cohenKappa(a, b, categories, 0.05);
    expect(run).toThrow(RangeError);
    expect(run).toThrow(message);
  });

  it("throws a RangeError for alpha outside (0, 1)", () => {
    expect(() => cohenKappa(["a"], ["a"], ["a"], 0)).toThrow(/alpha must be in \(0, 1\)/);
  });

  it("never exceeds 1, keeps raw agreement in [0, 1] and centres its interval on kappa", () => {
    fc.assert(
      fc.property(labelPairs, (pairs) => {
        const r = cohenKappa(
          pairs.map(([x]) => x),
          pairs.map(([, y]) => y),
          VERDICTS,
          0.05,
        );
        expect(r.kappa).toBeLessThanOrEqual(1);
        expect(r.kappa).toBeGreaterThanOrEqual(-1);
        expect(r.raw).toBeGreaterThanOrEqual(0);
        expect(r.raw).toBeLessThanOrEqual(1);
        expect(r.se).toBeGreaterThanOrEqual(0);
        expect(r.ci[0]).toBeLessThanOrEqual(r.kappa);
        expect(r.ci[1]).toBeGreaterThanOrEqual(r.kappa);
      }),
    );
  });

  it("is unchanged when the two raters swap", () => {
    fc.assert(
      fc.property(labelPairs, (pairs) => {
        const a = pairs.map(([x]) => x);
        const b = pairs.map(([, y]) => y);
        const ab = cohenKappa(a, b, VERDICTS, 0.05);
        const ba = cohenKappa(b, a, VERDICTS, 0.05);
        expect(ba.raw).toBe(ab.raw);
        expect(ba.kappa).toBe(ab.kappa);
        expect(ba.se).toBeCloseTo(ab.se, 12);
      }),
    );
  });
});
