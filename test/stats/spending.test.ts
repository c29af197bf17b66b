import { describe, expect, it } from "vitest";
import { normQuantile, normSf } from "../../stats/distributions.ts";
import { alphaSpent, type SpendingKind } from "../../stats/spending.ts";
import reference from "../fixtures/sequential-reference.json" with { type: "json" };

describe("alphaSpent", () => {
  it.each(reference.spending)(
    "spends $spent of alpha $alpha by t = $t with $kind spending (scipy reference)",
    ({ kind, alpha, t, spent }) => {
      const ours = alphaSpent(kind as SpendingKind, alpha, t);
      // Relative tolerance: early O'Brien–Fleming spends run down to 1e-111.
      expect(Math.abs(ours - spent)).toBeLessThanOrEqual(1e-10 * spent);
    },
  );

  const kinds: SpendingKind[] = ["obrien-fleming", "pocock"];

  it.each(kinds)("%s spends nothing at t = 0 and exactly alpha at t = 1", (kind) => {
    expect(alphaSpent(kind, 0.05, 0)).toBe(0);
    expect(alphaSpent(kind, 0.05, 1)).toBeCloseTo(0.05, 15);
  });

  it.each(kinds)("%s spending only grows with information", (kind) => {
    const grid = Array.from({ length: 101 }, (_, i) => i / 100);
    const spent = grid.map((t) => alphaSpent(kind, 0.05, t));
    for (let i = 1; i < spent.length; i++) expect(spent[i]!).toBeGreaterThan(spent[i - 1]!);
  });

  it("follows gsDesign: each side spends sfLDOF at alpha/2, not the two-sided alpha through one formula", () => {
    const alpha = 0.05;
    const t = 0.25;
    const perSide = 2 * normSf(-normQuantile(alpha / 4) / Math.sqrt(t));
    const otherReading = 2 * normSf(-normQuantile(alpha / 2) / Math.sqrt(t));
    expect(alphaSpent("obrien-fleming", alpha, t)).toBeCloseTo(2 * perSide, 15);
    // The other reading spends six times as much at the first quarter and misses every table.
    expect(otherReading / alphaSpent("obrien-fleming", alpha, t)).toBeGreaterThan(5);
  });

  it("spends early on Pocock and late on O'Brien–Fleming", () => {
    expect(alphaSpent("pocock", 0.05, 0.25)).toBeGreaterThan(0.015);
    expect(alphaSpent("obrien-fleming", 0.05, 0.25)).toBeLessThan(1e-4);
  });

  it.each([
    { alpha: 0, t: 0.5, message: /alpha must be a two-sided level in \(0, 1\); got 0/ },
    { alpha: 1.2, t: 0.5, message: /alpha must be/ },
    { alpha: 0.05, t: -0.1, message: /information fraction must be in \[0, 1\]; got -0.1/ },
    { alpha: 0.05, t: 1.5, message: /information fraction/ },
    { alpha: 0.05, t: Number.NaN, message: /information fraction/ },
  ])("refuses alpha $alpha at t = $t", ({ alpha, t, message }) => {
    expect(() => alphaSpent("pocock", alpha, t)).toThrow(message);
  });

  it("names the supported functions when given an unknown one", () => {
    expect(() => alphaSpent("linear" as SpendingKind, 0.05, 0.5)).toThrow(/"obrien-fleming" or "pocock"/);
  });
});
