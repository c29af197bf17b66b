/** Comparing results with reference values frozen from statsmodels / scipy / R (test/fixtures/). */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import type { Interval } from "../../stats/effect.ts";

/** A fixture interval; null ends are the open side of a one-sided bound. */
export type FixtureInterval = [number | null, number | null];

/** Parses a JSON fixture under test/fixtures/. */
export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8")) as T;
}

/** Within 1e-6 relative of the reference: the project's tolerance for p-values and intervals. */
export function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    1e-6 * Math.abs(expected),
  );
}

/**
 * Both ends within 1e-6 relative; a null end must be the matching infinity, and a null interval
 * is an undefined one (NaN ends, e.g. a relative lift over a control of 0).
 */
export function expectInterval(actual: Interval, expected: FixtureInterval | null): void {
  if (expected === null) {
    expect(actual).toEqual([Number.NaN, Number.NaN]);
    return;
  }
  const [lo, hi] = expected;
  if (lo === null) expect(actual[0]).toBe(Number.NEGATIVE_INFINITY);
  else expectClose(actual[0], lo);
  if (hi === null) expect(actual[1]).toBe(Number.POSITIVE_INFINITY);
  else expectClose(actual[1], hi);
}
