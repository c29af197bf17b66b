import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type PairOutcome, signTest, winRate } from "../../stats/win-rate.ts";
import { loadFixture } from "../helpers/reference.ts";

interface WinRateCase {
  name: string;
  outcomes: PairOutcome[];
  alpha: number;
  n: number;
  wins: number;
  losses: number;
  ties: number;
  rate: number;
  ci: [number, number];
}

interface SignTestCase {
  name: string;
  wins: number;
  losses: number;
  pValue: number;
}

const reference = loadFixture<{ winRate: WinRateCase[]; signTest: SignTestCase[] }>(
  "gate_stats_reference.json",
);

/** Within 1e-9 relative of statsmodels / scipy. */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    1e-9 * Math.abs(expected),
  );
}

const outcome = fc.constantFrom<PairOutcome>("win", "loss", "tie");

describe("winRate", () => {
  it.each(reference.winRate)("matches statsmodels DescrStatsW.tconfint_mean on $name", (c) => {
    const r = winRate(c.outcomes, c.alpha);
    expect(r).toMatchObject({ n: c.n, wins: c.wins, losses: c.losses, ties: c.ties });
    expectNear(r.rate, c.rate);
    expectNear(r.ci[0], c.ci[0]);
    expectNear(r.ci[1], c.ci[1]);
  });

  it.each([
    { name: "every case a win", outcomes: ["win", "win", "win"], rate: 1 },
    { name: "every case a loss", outcomes: ["loss", "loss"], rate: 0 },
    { name: "every case a tie", outcomes: ["tie", "tie", "tie", "tie"], rate: 0.5 },
    { name: "a single case", outcomes: ["tie"], rate: 0.5 },
  ] satisfies { name: string; outcomes: PairOutcome[]; rate: number }[])(
    "collapses the interval to the rate when $name",
    ({ outcomes, rate }) => {
      const r = winRate(outcomes, 0.05);
      expect(r.rate).toBe(rate);
      expect(r.ci).toEqual([rate, rate]);
    },
  );

  it("names the method and the confidence level it used", () => {
    expect(winRate(["win", "loss", "tie"], 0.05).method).toBe(
      "t interval of per-case scores (win 1, tie 0.5, loss 0), two-sided 95%",
    );
    expect(winRate(["win", "loss"], 0.1).method).toMatch(/two-sided 90%$/);
  });

  it.each([
    { name: "no outcomes", outcomes: [], alpha: 0.05, message: /no outcomes/ },
    { name: "an unknown outcome", outcomes: ["win", "draw"], alpha: 0.05, message: /outcome 1 .*"draw"/ },
    { name: "alpha 0", outcomes: ["win"], alpha: 0, message: /alpha/ },
    { name: "alpha 1", outcomes: ["win"], alpha: 1, message: /alpha/ },
    { name: "a NaN alpha", outcomes: ["win"], alpha: Number.NaN, message: /alpha/ },
  ])("throws a RangeError for $name", ({ outcomes, alpha, message }) => {
    const run = () => winRate(outcomes as PairOutcome[], alpha);
    expect(run).toThrow(RangeError);
    expect(run).toThrow(message);
  });

  it("keeps the rate in [0, 1] and inside its interval, whatever the order of outcomes", () => {
    fc.assert(
      fc.property(
        fc.array(outcome, { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0.001, max: 0.5, noNaN: true }),
        (outcomes, alpha) => {
          const r = winRate(outcomes, alpha);
          expect(r.rate).toBeGreaterThanOrEqual(0);
          expect(r.rate).toBeLessThanOrEqual(1);
          expect(r.wins + r.losses + r.ties).toBe(r.n);
          expect(r.ci[0]).toBeLessThanOrEqual(r.rate);
          expect(r.ci[1]).toBeGreaterThanOrEqual(r.rate);
          const reversed = winRate([...outcomes].reverse(), alpha);
          expect(reversed.rate).toBe(r.rate);
          expect(reversed.ci[0]).toBeCloseTo(r.ci[0], 12);
        },
      ),
    );
  });

  it("mirrors around one half when wins and losses swap", () => {
    const swap: Record<PairOutcome, PairOutcome> = { win: "loss", loss: "win", tie: "tie" };
    fc.assert(
      fc.property(fc.array(outcome, { minLength: 2, maxLength: 100 }), (outcomes) => {
        const r = winRate(outcomes, 0.05);
        const m = winRate(
          outcomes.map((o) => swap[o]),
          0.05,
        );
        expect(m.rate).toBeCloseTo(1 - r.rate, 12);
        expect(m.ci[0]).toBeCloseTo(1 - r.ci[1], 12);
        expect(m.ci[1]).toBeCloseTo(1 - r.ci[0], 12);
      }),
    );
  });

  it("narrows the interval as the confidence level drops", () => {
    const outcomes: PairOutcome[] = ["win", "win", "loss", "tie", "win", "loss", "win"];
    const wide = winRate(outcomes, 0.01).ci;
    const narrow = winRate(outcomes, 0.2).ci;
    expect(wide[0]).toBeLessThan(narrow[0]);
    expect(wide[1]).toBeGreaterThan(narrow[1]);
  });
});

describe("signTest", () => {
  it.each(reference.signTest)("matches scipy binomtest on $name", (c) => {
    const r = signTest(c.wins, c.losses);
    expect(r).toMatchObject({ n: c.wins + c.losses, wins: c.wins, losses: c.losses });
    expectNear(r.pValue, c.pValue);
  });

  it("gives p = 1 when no case was decided", () => {
    expect(signTest(0, 0)).toEqual({ n: 0, wins: 0, losses: 0, pValue: 1 });
  });

  it("drops ties: the outcomes of winRate feed it through their counts", () => {
    const r = winRate(["win", "tie", "win", "tie", "loss", "win"], 0.05);
    // 3 wins of 4 decided cases: 2 · P(X ≤ 1 | n = 4) = 2 · 5/16.
    expect(signTest(r.wins, r.losses)).toEqual({ n: 4, wins: 3, losses: 1, pValue: 0.625 });
  });

  it("is symmetric in wins and losses and a valid probability", () => {
    fc.assert(
      fc.property(fc.nat(2000), fc.nat(2000), (wins, losses) => {
        const p = signTest(wins, losses).pValue;
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        expect(signTest(losses, wins).pValue).toBe(p);
      }),
    );
  });

  it.each([
    { name: "negative wins", wins: -1, losses: 3, field: /wins/ },
    { name: "fractional losses", wins: 2, losses: 1.5, field: /losses/ },
    { name: "NaN wins", wins: Number.NaN, losses: 0, field: /wins/ },
  ])("throws a RangeError for $name", ({ wins, losses, field }) => {
    const run = () => signTest(wins, losses);
    expect(run).toThrow(RangeError);
    expect(run).toThrow(field);
  });
});
