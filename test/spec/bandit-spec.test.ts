/**
 * `rollout.mode: bandit` in the spec: defaults written down, and every way to get it wrong named
 * by path with what would be valid.
 */
import { describe, expect, it } from "vitest";
import { parseSpec } from "../../spec/load.ts";
import { exampleInput, expectInvalid, type InvalidCase, type Patch, patched } from "./spec-fixtures.ts";

const bandit = (settings: Record<string, unknown>): Patch => [
  ["rollout"],
  { mode: "bandit", bandit: settings },
];

describe("a bandit rollout", () => {
  it("parses with every setting's default", () => {
    const spec = parseSpec(patched(exampleInput(), [bandit({ reward: "resolution_rate" })]));
    expect(spec.rollout).toMatchObject({
      mode: "bandit",
      mirrorPercent: 0,
      bandit: {
        reward: "resolution_rate",
        floor: 0.05,
        burnIn: 100,
        updateEvery: 100,
        maxUpdateIntervalSeconds: 60,
        rewardWindowSeconds: 3600,
        draws: 10000,
      },
    });
  });

  it("may learn from a continuous secondary metric whose good direction is decrease", () => {
    expect(() => parseSpec(patched(exampleInput(), [bandit({ reward: "response_tokens" })]))).not.toThrow();
  });
});

const cases: InvalidCase[] = [
  {
    name: "mode bandit needs its settings",
    patches: [[["rollout"], { mode: "bandit" }]],
    path: "rollout.bandit",
    says: ["is required in mode bandit", "reward"],
  },
  {
    name: "the bandit sets the split itself",
    patches: [[["rollout"], { mode: "bandit", treatmentPercent: 20, bandit: { reward: "resolution_rate" } }]],
    path: "rollout.treatmentPercent",
    says: ["set by the bandit", "remove it"],
  },
  {
    name: "settings outside mode bandit are refused",
    patches: [[["rollout"], { mode: "ab", bandit: { reward: "resolution_rate" } }]],
    path: "rollout.bandit",
    says: ["only read in mode bandit", "got mode ab"],
  },
  {
    name: "the reward must be declared",
    patches: [bandit({ reward: "resolution_rat" })],
    path: "rollout.bandit.reward",
    says: [
      'got "resolution_rat"',
      'did you mean "resolution_rate"',
      "declared: resolution_rate, response_tokens",
    ],
  },
  {
    name: "the reward cannot be a router-measured metric",
    patches: [bandit({ reward: "ttft_seconds" })],
    path: "rollout.bandit.reward",
    says: ["measured by the router", "never posted"],
  },
  {
    name: "the reward must be binary or continuous",
    patches: [
      [["metrics", "secondary", 0, "kind"], "ratio"],
      [["metrics", "secondary", 0, "numerator"], "a"],
      [["metrics", "secondary", 0, "denominator"], "b"],
      bandit({ reward: "response_tokens" }),
    ],
    path: "rollout.bandit.reward",
    says: ["binary or continuous", "is ratio"],
  },
  {
    name: "the floor must leave room for every arm",
    patches: [
      [["variants", "treatment-b"], { deployment: "chat-8b", systemPrompt: "Be brief." }],
      bandit({ reward: "resolution_rate", floor: 0.34 }),
    ],
    path: "rollout.bandit.floor",
    says: ["below 1/arms = 0.3333", "3 arms", "got 0.34"],
  },
  {
    name: "the floor is a probability at most ½",
    patches: [bandit({ reward: "resolution_rate", floor: 0.6 })],
    path: "rollout.bandit.floor",
    says: ["must be in (0, 0.5]", "got 0.6"],
  },
  {
    name: "batches hold at least one reward",
    patches: [bandit({ reward: "resolution_rate", updateEvery: 0 })],
    path: "rollout.bandit.updateEvery",
    says: ["must be at least 1", "got 0"],
  },
  {
    name: "the reward window is a duration",
    patches: [bandit({ reward: "resolution_rate", rewardWindow: "an hour" })],
    path: "rollout.bandit.rewardWindow",
    says: ["Prometheus duration"],
  },
];

describe("bandit settings that are wrong", () => {
  it.each(cases)("$name", (c) => expectInvalid(c));
});
