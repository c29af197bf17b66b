import { describe, expect, it } from "vitest";
import { DELETE, expectInvalid, type InvalidCase, type Patch, problemsOf } from "./spec-fixtures.ts";

// Each case breaks the metrics of the valid prompt-duel example in one way. Its guardrails are
// [0] ttft_p95_seconds (warm), [1] error_rate, [2] cost_per_session_usd.
// biome-ignore format: one case per line reads as a table
const invalidCases: InvalidCase[] = [
  // metrics
  { name: "rejects a metric name that is not snake_case", patches: [[["metrics", "primary", 0, "name"], "Resolution"]], path: "metrics.primary[0].name", says: ["snake_case"] },
  { name: "requires at least one primary metric", patches: [[["metrics", "primary"], []]], path: "metrics.primary", says: ["at least one entry"] },
  { name: "rejects an unknown metric kind", patches: [[["metrics", "primary", 0, "kind"], "count"]], path: "metrics.primary[0].kind", says: ['"binary", "continuous" or "ratio"'] },
  { name: "rejects a binary mde that moves the rate past 1", patches: [[["metrics", "primary", 0, "mde"], 0.5]], path: "metrics.primary[0].mde", says: ["0.6 to 1.1", "outside (0, 1)"] },
  { name: "rejects a relative binary mde that moves the rate below 0", patches: [[["metrics", "primary", 0], { name: "r", kind: "binary", baseline: 0.1, relativeMde: 1.5, direction: "decrease" }]], path: "metrics.primary[0].relativeMde", says: ["0.1 to -0.05", "direction decrease"] },
  { name: "rejects a binary baseline outside (0, 1)", patches: [[["metrics", "primary", 0, "baseline"], 1.2]], path: "metrics.primary[0].baseline", says: ["strictly between 0 and 1", "got 1.2"] },
  { name: "rejects both mde and relativeMde", patches: [[["metrics", "primary", 0, "relativeMde"], 0.1]], path: "metrics.primary[0].relativeMde", says: ["not both"] },
  { name: "requires a baseline for a binary primary", patches: [[["metrics", "primary", 0, "baseline"], DELETE]], path: "metrics.primary[0].baseline", says: ["is required for a binary primary"] },
  { name: "requires an effect size for a primary", patches: [[["metrics", "primary", 0, "mde"], DELETE]], path: "metrics.primary[0].mde", says: ["relativeMde instead"] },
  { name: "rejects a non-positive mde", patches: [[["metrics", "primary", 0, "mde"], 0]], path: "metrics.primary[0].mde", says: ["greater than 0, got 0"] },
  { name: "requires sd for a continuous primary", patches: [[["metrics", "primary", 0], { name: "csat", kind: "continuous", mde: 0.1 }]], path: "metrics.primary[0].sd", says: ["is required for a continuous primary"] },
  { name: "requires a baseline with relativeMde", patches: [[["metrics", "primary", 0], { name: "csat", kind: "continuous", sd: 1, relativeMde: 0.1 }]], path: "metrics.primary[0].baseline", says: ["is required with relativeMde"] },
  { name: "requires a numerator for a ratio metric", patches: [[["metrics", "secondary", 0], { name: "per_turn", kind: "ratio", denominator: "turns" }]], path: "metrics.secondary[0].numerator", says: ["is required for a ratio metric"] },
  { name: "rejects a ratio of a field over itself", patches: [[["metrics", "secondary", 0], { name: "per_turn", kind: "ratio", numerator: "turns", denominator: "turns" }]], path: "metrics.secondary[0].denominator", says: ["must differ from numerator"] },
  { name: "rejects a numerator on a binary metric", patches: [[["metrics", "primary", 0, "numerator"], "x"]], path: "metrics.primary[0].numerator", says: ["only used by ratio metrics"] },
  { name: "rejects sd on a binary metric", patches: [[["metrics", "primary", 0, "sd"], 0.5]], path: "metrics.primary[0].sd", says: ["not used by binary metrics"] },
  { name: "rejects a metric declared twice", patches: [[["metrics", "secondary", 0, "name"], "resolution_rate"]], path: "metrics.secondary[0].name", says: ["declared twice"] },
  { name: "rejects an outcome metric named like a built-in one", patches: [[["metrics", "secondary", 0, "name"], "error_rate"]], path: "metrics.secondary[0].name", says: ["built-in router metric"] },
  // guardrails
  { name: "rejects an unknown guardrail metric listing the catalogue", patches: [[["metrics", "guardrails", 0, "name"], "ttft_p96_seconds"]], path: "metrics.guardrails[0].name", says: [ 'unknown guardrail metric "ttft_p96_seconds"', "error_rate", "cost_per_session_usd", 'did you mean "ttft_p95_seconds"?', ] },
  { name: "rejects replicaState on a metric that is not latency", patches: [[["metrics", "guardrails", 1, "replicaState"], "warm"]], path: "metrics.guardrails[1].replicaState", says: ["only latency metrics", '"error_rate" is not'] },
  { name: "rejects replicaState on an outcome guardrail", patches: [[["metrics", "guardrails", 3], { name: "resolution_rate", min: 0.5, replicaState: "cold" }]], path: "metrics.guardrails[3].replicaState", says: ["only latency metrics"] },
  { name: "requires a threshold on a guardrail", patches: [[["metrics", "guardrails", 1, "max"], DELETE]], path: "metrics.guardrails[1]", says: ["needs a threshold", "relativeMax"] },
  { name: "rejects a misspelt action and suggests the closest", patches: [[["metrics", "guardrails", 1, "action"], "rollbak"]], path: "metrics.guardrails[1].action", says: ['"pause", "rollback" or "review"', 'did you mean "rollback"?'] },
  { name: "rejects zero windows", patches: [[["metrics", "guardrails", 1, "windows"], 0]], path: "metrics.guardrails[1].windows", says: ["at least 1, got 0"] },
  { name: "rejects a floor on a lower-is-better metric", patches: [[["metrics", "guardrails", 1, "min"], 0.0001]], path: "metrics.guardrails[1].min", says: ["lower-is-better", "use max"] },
  { name: "rejects a ceiling on a higher-is-better outcome", patches: [[["metrics", "guardrails", 3], { name: "resolution_rate", max: 0.9 }]], path: "metrics.guardrails[3].max", says: ["higher-is-better", "use min"] },
  { name: "rejects an error-rate ceiling above 1", patches: [[["metrics", "guardrails", 1, "max"], 5]], path: "metrics.guardrails[1].max", says: ["at most 1", "got 5"] },
  { name: "rejects a negative relativeMax", patches: [[["metrics", "guardrails", 2, "relativeMax"], -0.1]], path: "metrics.guardrails[2].relativeMax", says: ["at least 0, got -0.1"] },
  { name: "rejects a guardrail repeated with the same action", patches: [[["metrics", "guardrails", 3], { name: "error_rate", max: 0.01, action: "rollback" }]], path: "metrics.guardrails[3]", says: ["repeats metrics.guardrails[1]"] },
];

describe("metric and guardrail validation", () => {
  it.each(invalidCases)("$name", expectInvalid);
});

// biome-ignore format: one case per line reads as a table
const validCases: { name: string; patches: readonly Patch[] }[] = [
  { name: "accepts an outcome guardrail with a floor", patches: [[["metrics", "guardrails", 3], { name: "resolution_rate", min: 0.55, action: "pause" }]] },
  { name: "accepts escalating guardrails on one metric with different actions", patches: [[["metrics", "guardrails", 3], { name: "error_rate", max: 0.01, action: "pause" }]] },
  { name: "accepts a continuous primary sized relative to its baseline", patches: [[["metrics", "primary", 0], { name: "csat", kind: "continuous", baseline: 4.1, sd: 1.2, relativeMde: 0.03 }]] },
  { name: "accepts a ratio primary with numerator, denominator and sd", patches: [[["metrics", "primary", 0], { name: "handoffs_per_turn", kind: "ratio", numerator: "handoffs", denominator: "turns", direction: "decrease", baseline: 0.08, relativeMde: 0.15, sd: 0.3 }]] },
  { name: "accepts a secondary metric without sizing fields", patches: [[["metrics", "secondary", 0], { name: "copy_rate", kind: "binary" }]] },
  { name: "accepts CUPED on the metric's own pre-period value", patches: [[["metrics", "primary", 0, "covariate"], "resolution_rate"]] },
  { name: "accepts a spec without guardrails", patches: [[["metrics", "guardrails"], DELETE]] },
  { name: "accepts a cold-replica latency guardrail", patches: [[["metrics", "guardrails", 3], { name: "e2e_p99_seconds", replicaState: "cold", max: 30 }]] },
];

describe("valid metric variations", () => {
  it.each(validCases)("$name", ({ patches }) => {
    expect(problemsOf(patches)).toEqual([]);
  });
});
