/**
 * Bandit event logs for tests: a seeded batched Thompson-sampling run written the way the router
 * writes its event log (one exposure with propensities and one reward outcome per unit).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import mt19937 from "@stdlib/random-base-mt19937";
import { parseSpec } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { type ArmStats, allocationProbabilities, pickArm } from "../../stats/thompson.ts";
import { exampleInput, patched } from "../spec/spec-fixtures.ts";

/** The prompt-duel example as a bandit on resolution_rate, with `extraArms` more treatments. */
export function banditSpecInput(extraArms = 0): unknown {
  const arms = Array.from({ length: extraArms }, (_, i) => [
    ["variants", `treatment-${i + 2}`],
    { deployment: "chat-8b", systemPrompt: `Prompt ${i + 2}.` },
  ]) as [string[], unknown][];
  return patched(exampleInput(), [
    ...arms,
    [["rollout"], { mode: "bandit", bandit: { reward: "resolution_rate", floor: 0.05 } }],
  ]);
}

export function banditSpec(extraArms = 0): ExperimentSpec {
  return parseSpec(banditSpecInput(extraArms));
}

/**
 * A batched Thompson-sampling run written as the router writes it: one exposure per unit with the
 * propensities it was drawn with, one resolution_rate outcome each. `lie` records the equal split
 * while drawing from the real allocation (a router bug the propensity check must catch).
 */
export function simulateBanditLog(
  dir: string,
  seed: number,
  rates: readonly number[],
  arms: readonly string[],
  units = 2000,
  lie = false,
): string {
  const rng = mt19937.factory({ seed });
  const random = () => rng() / 4294967296;
  const stats: ArmStats[] = arms.map(() => ({ n: 0, sum: 0, sumSquares: 0 }));
  const lines: string[] = [];
  let probabilities = arms.map(() => 1 / arms.length);
  const t0 = Date.parse("2026-11-01T00:00:00Z");
  for (let i = 0; i < units; i++) {
    if (i > 0 && i % 100 === 0) {
      probabilities = allocationProbabilities(
        stats,
        "binary",
        { floor: 0.05, burnIn: 50, draws: 500 },
        random,
      );
    }
    const arm = pickArm(probabilities, random());
    const value = random() < rates[arm]! ? 1 : 0;
    const s = stats[arm]!;
    s.n++;
    s.sum += value;
    s.sumSquares += value;
    const recorded = lie ? arms.map(() => 1 / arms.length) : probabilities;
    const t = new Date(t0 + i * 1000).toISOString();
    const base = { t, experiment: "support-bot-policy-prompt", unit: `u${i}` };
    lines.push(
      JSON.stringify({
        type: "exposure",
        ...base,
        unitSource: "header:x-llm-ab-unit",
        variant: arms[arm],
        assigned: arms[arm],
        state: "active",
        allocation: 50,
        propensities: Object.fromEntries(arms.map((a, j) => [a, recorded[j]])),
        allocationVersion: Math.floor(i / 100),
        firstAssignedAt: t,
        bucket: 0,
        requestId: `r${i}`,
        route: "chat",
        deployment: "chat-8b",
        status: 200,
        stream: false,
      }),
      JSON.stringify({ type: "outcome", ...base, variant: arms[arm], metric: "resolution_rate", value }),
    );
  }
  const path = join(dir, `run-${seed}-${lie}.jsonl`);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}
