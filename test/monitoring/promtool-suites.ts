/**
 * The hand-written promtool suites in ./promtool/ that run against a spec of their own (rather
 * than ./promtool/scenario-spec.yaml): each suite's file, the spec its rules are rendered from
 * (production profile, written as rules.yaml beside it), and what it shows.
 */

export interface SpecSuite {
  readonly file: string;
  readonly spec: string;
  /** A sentence, for the vitest test name. */
  readonly shows: string;
}

export const specSuites: readonly SpecSuite[] = [
  {
    file: "three-arms.yaml",
    spec: "three-arms-spec.yaml",
    shows:
      "with three arms each treatment is judged on its own: only the regressed treatment's alert fires, labelled with its variant, and SRM fires on a skewed split and not on a balanced one",
  },
  {
    file: "bandit-arms.yaml",
    spec: "bandit-spec.yaml",
    shows:
      "mode bandit records and alerts nothing about a split that moves on purpose, and still raises no-data for an arm the allocation gives traffic",
  },
];
