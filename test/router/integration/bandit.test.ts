/**
 * A Thompson-sampling bandit run through two whole routers (`startRouter`) sharing a real
 * redis-server: units alternate between the routers, rewards are posted to the other router, and
 * the allocation both routers draw from is the one they update together through Redis.
 *
 * Deterministic: unit draws are hashes, rewards come from a seeded generator, every request is
 * awaited in turn, and `banditRefreshMs: 0` makes each router read the shared allocation before it
 * places a new unit, so a run replays exactly.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mt19937 from "@stdlib/random-base-mt19937";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBanditAnalysis } from "../../../analysis/bandit-analysis.ts";
import type { ExposureRecord, OutcomeRecord } from "../../../router/records.ts";
import { parseSpec } from "../../../spec/load.ts";
import { redisPerFile } from "../../helpers/redis-server.ts";
import {
  chatTurn,
  json,
  postJson,
  RouterHarness,
  readRecords,
  sample,
  send,
  specInput,
} from "../../helpers/router-harness.ts";
import type { ScriptedUpstream } from "../../helpers/scripted-upstream.ts";

const harness = new RouterHarness();
const redis = redisPerFile();
let up: ScriptedUpstream;

beforeEach(async () => {
  up = await harness.upstream({ tokens: ["ok"] });
});
afterEach(() => harness.cleanup());

const FLOOR = 0.05;

function banditSpec(bandit: Record<string, unknown>) {
  return specInput(
    [up.url],
    [
      ["rollout"],
      { mode: "bandit", bandit: { reward: "resolution_rate", floor: FLOOR, draws: 1000, ...bandit } },
    ],
    [["router"], { store: "redis", redisUrl: redis().url }],
  );
}

/** Two routers on one spec and one Redis, each with its own event log. */
async function twoRouters(bandit: Record<string, unknown>) {
  const specPath = harness.writeSpec(banditSpec(bandit));
  const dir = harness.tempDir();
  const routers = [];
  for (const name of ["a", "b"]) {
    routers.push(
      await harness.router({
        specPath,
        eventsPath: join(dir, `events-${name}.jsonl`),
        context: { processMetrics: false, banditRefreshMs: 0 },
      }),
    );
  }
  return routers;
}

/**
 * `units` units, one turn each through router i % 2, then a 0/1 reward drawn at the served
 * variant's rate and posted to the other router. Returns how many units each variant got.
 */
async function run(
  routers: { proxyUrl: string }[],
  units: number,
  rates: Record<string, number>,
  seed: number,
): Promise<Record<string, number>> {
  const random = mt19937.factory({ seed });
  const counts: Record<string, number> = {};
  for (let i = 0; i < units; i++) {
    const unit = `s${seed}-u${i}`;
    const turn = await chatTurn(routers[i % 2]!.proxyUrl, unit);
    expect(turn.status).toBe(200);
    const variant = String(turn.headers["x-llm-ab-variant"]);
    counts[variant] = (counts[variant] ?? 0) + 1;
    const value = random() / 4294967296 < (rates[variant] ?? Number.NaN) ? 1 : 0;
    const outcome = await postJson(`${routers[(i + 1) % 2]!.proxyUrl}/v1/outcomes`, {
      unit,
      metric: "resolution_rate",
      value,
    });
    expect(outcome.status).toBe(200);
    expect(json(outcome).bandit).toBe("in_window");
  }
  return counts;
}

async function exposures(routers: { stop(): Promise<void> }[], dir: string): Promise<ExposureRecord[]> {
  for (const router of routers) await router.stop();
  return ["a", "b"].flatMap((name) =>
    readRecords(join(dir, `events-${name}.jsonl`)).filter((r): r is ExposureRecord => r.type === "exposure"),
  );
}

/**
 * Realised units per arm against the sum of the propensities they were drawn with: each unit is a
 * Bernoulli(π_k) draw for arm k, so the count's mean is Σπ and its variance Σπ(1 − π).
 */
function expectDrawsMatchPropensities(records: readonly ExposureRecord[], arms: readonly string[]): void {
  for (const arm of arms) {
    const pi = records.map((r) => r.propensities?.[arm] ?? Number.NaN);
    const expected = pi.reduce((s, p) => s + p, 0);
    const sd = Math.sqrt(pi.reduce((s, p) => s + p * (1 - p), 0));
    const got = records.filter((r) => r.assigned === arm).length;
    expect(Math.abs(got - expected), `${arm}: ${got} units, ${expected.toFixed(1)} expected`).toBeLessThan(
      4 * sd,
    );
  }
}

describe("a bandit shared by two routers through Redis", () => {
  it("sends at least 70 % of 2,000 units to the better arm (0.62 vs 0.55), never below the floor", async () => {
    const routers = await twoRouters({ burnIn: 100, updateEvery: 100 });
    const counts = await run(routers, 2000, { control: 0.55, treatment: 0.62 }, 7);
    // Observed: 1,640 of 2,000 (82 %) with seed 7; seeds 1–4 gave 75.6 %, 88.2 %, 82.4 % and 74.7 %.
    // The stats-level simulation (test/stats/thompson-simulation.test.ts) reaches 70 % in 94 of 100 seeds.
    expect(counts.treatment! / 2000).toBeGreaterThanOrEqual(0.7);

    const metrics = (await send(`${routers[0]!.adminUrl}/metrics`)).body.toString();
    expect(sample(metrics, "llmab_bandit_rewards_total", { matched: "in_window" })).toBeGreaterThan(0);
    const version = sample(metrics, "llmab_bandit_allocation_version");
    expect(version).toBeGreaterThanOrEqual(15);
    expect(sample(metrics, "llmab_bandit_allocation", { variant: "treatment" })).toBeGreaterThan(0.5);
    expect(sample(metrics, "llmab_bandit_posterior_mean", { variant: "treatment" })).toBeGreaterThan(0.55);
    expect(sample(metrics, "llmab_bandit_regret")).toBeGreaterThan(0);

    const records = await exposures(routers, harness.tempDir());
    expect(records).toHaveLength(2000);
    const versions = new Set(records.map((r) => r.allocationVersion));
    // Both routers drew from the same versions: each placed units under most of them.
    expect(versions.size).toBeGreaterThanOrEqual(15);
    for (const r of records) {
      const p = Object.values(r.propensities ?? {});
      expect(p).toHaveLength(2);
      for (const pk of p) expect(pk).toBeGreaterThanOrEqual(FLOOR - 1e-12);
      expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    }
    expectDrawsMatchPropensities(records, ["control", "treatment"]);

    // The analysis of both routers' logs weights by the recorded propensities and passes its check.
    const merged = join(harness.tempDir(), "events.jsonl");
    writeFileSync(
      merged,
      ["a", "b"]
        .map((name) => readFileSync(join(harness.tempDir(), `events-${name}.jsonl`), "utf8"))
        .join(""),
    );
    const report = await runBanditAnalysis(parseSpec(banditSpec({})), merged);
    expect(report.propensityCheck.alarm).toBe(false);
    expect(report.units).toBe(2000);
    const reward = report.metrics.find((m) => m.reward)!;
    expect(reward.arms.map((a) => a.n)).toEqual([counts.control, counts.treatment]);
  }, 120_000);

  it("keeps equal arms balanced: equal split in burn-in, then draws within binomial bounds of the logged allocation", async () => {
    const routers = await twoRouters({ burnIn: 100, updateEvery: 50 });
    const counts = await run(routers, 800, { control: 0.6, treatment: 0.6 }, 11);
    const records = await exposures(routers, harness.tempDir());
    // Until both arms have 100 rewards (about the first 200 units) the allocation is the equal split.
    // Updates during burn-in (every 50 rewards) store the equal split again under new versions.
    const byTime = [...records].sort((a, b) => a.t.localeCompare(b.t));
    const burnIn = byTime.slice(
      0,
      byTime.findIndex((r) => r.propensities?.control !== 0.5),
    );
    expect(burnIn.length).toBeGreaterThanOrEqual(190);
    const burnInControl = burnIn.filter((r) => r.assigned === "control").length;
    expect(Math.abs(burnInControl - burnIn.length / 2)).toBeLessThan(4 * Math.sqrt(burnIn.length / 4));
    // After it the allocation wanders (Thompson sampling on equal arms does; the stats-level test
    // checks its symmetry over 100 seeds), but each unit's arm stays a fair draw from it.
    expect(new Set(records.map((r) => r.allocationVersion)).size).toBeGreaterThan(5);
    expectDrawsMatchPropensities(records, ["control", "treatment"]);
    expect((counts.control ?? 0) + (counts.treatment ?? 0)).toBe(800);
  }, 60_000);
});

describe("rewards that do not count", () => {
  it("are matched and labelled: late (outside the window), duplicate, unassigned; only in-window ones are learned", async () => {
    const routers = await twoRouters({ rewardWindow: "1s", burnIn: 1, updateEvery: 1 });
    const [a, b] = routers;
    expect((await chatTurn(a!.proxyUrl, "early")).status).toBe(200);
    const post = async (unit: string) =>
      json(await postJson(`${b!.proxyUrl}/v1/outcomes`, { unit, metric: "resolution_rate", value: 1 }))
        .bandit;
    expect(await post("early")).toBe("in_window");
    expect(await post("early")).toBe("duplicate");
    expect(await post("never-seen")).toBe("unassigned");
    expect((await chatTurn(a!.proxyUrl, "slow")).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await post("slow")).toBe("late");

    const metrics = (await send(`${b!.adminUrl}/metrics`)).body.toString();
    expect(sample(metrics, "llmab_bandit_rewards_total", { matched: "late" })).toBe(1);
    expect(sample(metrics, "llmab_bandit_rewards_total", { matched: "duplicate" })).toBe(1);
    expect(sample(metrics, "llmab_bandit_rewards_total", { matched: "unassigned" })).toBe(1);
    // One reward learned: one arm has n = 1 in the shared statistics, the other none.
    const client = new Redis(redis().url);
    const keys = await client.keys("llmab:bandit:*:stats");
    const stats = await client.hgetall(keys[0]!);
    client.disconnect();
    expect(stats.total).toBe("1");

    for (const router of routers) await router.stop();
    const outcomes = ["b"].flatMap((name) =>
      readRecords(join(harness.tempDir(), `events-${name}.jsonl`)).filter(
        (r): r is OutcomeRecord => r.type === "outcome",
      ),
    );
    expect(outcomes.map((o) => o.bandit)).toEqual(["in_window", "duplicate", "unassigned", "late"]);
  }, 30_000);
});
