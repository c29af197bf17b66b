/**
 * bench/bandit: what Thompson-sampling allocation saves (units sent to worse arms, expected reward
 * lost) and what it costs (precision of the best-vs-control difference), against a fixed equal
 * split, side by side over the same seeded traffic.
 *
 * Each run draws one stream of units. Unit i has a uniform w_i (its reward on arm k is w_i < p_k,
 * so every arm's outcome is fixed before either design sees the unit) and the router's own
 * assignment draw `unitDraw(salt, unit)`. The fixed design sends it to `pickArm(equal split, draw)`,
 * the bandit to `pickArm(allocation in force, draw)`, as router/assigner.ts does: the designs differ
 * only in the allocation. The bandit is the router's: each reward is learned at once (`updateDue`
 * counts it; the time-based update is not simulated, there is no clock) and every `--update-every`
 * rewards `nextAllocation` computes the next version from the arms' statistics with the spec's
 * burn-in, floor and Monte Carlo draws (the flags are validated by the spec's own schema).
 *
 * Per scenario, over `--runs` runs of `--units` units:
 * - units sent to arms worse than the best, and the expected reward lost (regret: Σ over units of
 *   p_best − p_arm, from the true rates, so outcome luck does not blur it), fixed vs bandit;
 * - the precision of best − control: fixed by the plain difference of means (twoProportionZTest's
 *   unpooled SE), bandit by Hajek inverse-propensity weighting (stats/ipw.ts, the two arms' SEs in
 *   quadrature, as analysis/bandit-analysis.ts does). Shown both as the SE the analysis reports
 *   (root mean square over runs) and as the actual spread of the estimate over runs, with the share
 *   of 1 − alpha intervals covering the true difference and whether that is within Monte Carlo error;
 * - the share of runs whose final allocation gives the truly best arm the largest probability.
 *
 * Why `--draws 1000` by default when the spec's default is 10,000: draws only set the Monte Carlo
 * error of P(arm is best), at most 0.5/√draws = 0.016 per update, and an update costs time linear
 * in them (nextAllocation, P(best) and the regret estimate: about 1.2 ms for two arms at 1,000
 * draws, 12 ms at 10,000). At 10,000 the defaults take about five minutes on two cores, and
 * `--draws 10000 --runs 40` gave the same ratios as 1,000 draws on the same seeds. Runs are split
 * over `--jobs` child processes (run r always has seed + r: the output does not depend on the split).
 *
 *   node bin/run-ts.mjs bench/bandit.ts [--runs 200] [--units 5000] [--seed 20260801] [--alpha 0.05]
 *     [--floor 0.05] [--burn-in 100] [--update-every 100] [--draws 1000] [--jobs 2]
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import uniform from "@stdlib/random-base-uniform";
import {
  type BanditPolicy,
  initialAllocation,
  nextAllocation,
  unitDraw,
  updateDue,
} from "../router/bandit/allocation.ts";
import { rolloutSchema } from "../spec/rollout-schema.ts";
import { normQuantile } from "../stats/distributions.ts";
import { ipwArmMeans, type PropensityRecord } from "../stats/ipw.ts";
import { twoProportionZTest } from "../stats/proportions.ts";
import { type ArmStats, pickArm } from "../stats/thompson.ts";

const USAGE = `Usage: node bin/run-ts.mjs bench/bandit.ts [options]

A fixed equal split vs the router's Thompson-sampling bandit over the same seeded traffic: units
sent to worse arms, regret, and the precision of the best-vs-control difference (IPW for the bandit).

  --runs <n>          seeded runs per scenario (default 200)
  --units <n>         units per run (default 5000)
  --seed <n>          seed of run 0; run r uses seed + r (default 20260801)
  --alpha <a>         intervals have confidence 1 − alpha (default 0.05)
  --floor <p>         lowest probability of any arm, at most 0.25 (default 0.05, as the spec)
  --burn-in <n>       rewards every arm needs before allocation adapts (default 100, as the spec)
  --update-every <n>  rewards between allocation updates (default 100, as the spec)
  --draws <n>         Monte Carlo draws per update, ≥ 1000 (default 1000; the spec's is 10000)
  --jobs <n>          child processes sharing the runs (default 2)
  -h, --help          this help`;

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "200" },
    units: { type: "string", default: "5000" },
    seed: { type: "string", default: "20260801" },
    alpha: { type: "string", default: "0.05" },
    floor: { type: "string", default: "0.05" },
    "burn-in": { type: "string", default: "100" },
    "update-every": { type: "string", default: "100" },
    draws: { type: "string", default: "1000" },
    jobs: { type: "string", default: "2" },
    // Internal: set on the child processes, which print their runs as JSON lines.
    shard: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const runs = Number(values.runs);
const units = Number(values.units);
const seed = Number(values.seed);
const alpha = Number(values.alpha);
const jobs = Number(values.jobs);
if (!(Number.isInteger(runs) && runs >= 10 && runs <= 100_000))
  throw new Error(`--runs must be an integer in [10, 100000], got ${values.runs}`);
if (!(Number.isInteger(units) && units >= 1000 && units <= 10_000_000))
  throw new Error(`--units must be an integer in [1000, 10000000], got ${values.units}`);
if (!(Number.isInteger(seed) && seed >= 1 && seed + runs < 2 ** 32))
  throw new Error(`--seed must be an integer ≥ 1 with seed + runs < 2^32, got ${values.seed}`);
if (!(alpha > 0 && alpha < 0.5)) throw new Error(`--alpha must be in (0, 0.5), got ${values.alpha}`);
if (!(Number.isInteger(jobs) && jobs >= 1 && jobs <= 64))
  throw new Error(`--jobs must be an integer in [1, 64], got ${values.jobs}`);
// The four-arm scenario needs floor ≤ 1/4; the spec's schema checks the rest and fills the defaults.
if (!(Number(values.floor) <= 0.25)) throw new Error(`--floor must be at most 0.25, got ${values.floor}`);
const parsed = rolloutSchema.safeParse({
  mode: "bandit",
  bandit: {
    reward: "reward",
    floor: Number(values.floor),
    burnIn: Number(values["burn-in"]),
    updateEvery: Number(values["update-every"]),
    draws: Number(values.draws),
  },
});
if (!parsed.success || parsed.data.bandit === undefined) {
  const issues = parsed.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
  throw new Error(`invalid --floor, --burn-in, --update-every or --draws: ${issues.join("; ")}`);
}
const banditConfig = parsed.data.bandit;

/** True reward rate per arm, control first. */
const SCENARIOS: readonly { name: string; means: readonly number[] }[] = [
  { name: "two arms, 0.55 vs 0.62", means: [0.55, 0.62] },
  { name: "four arms, 0.55 / 0.57 / 0.60 / 0.62", means: [0.55, 0.57, 0.6, 0.62] },
  { name: "two equal arms, 0.60 vs 0.60", means: [0.6, 0.6] },
];

/** What one design did in one run. */
interface DesignRun {
  worseUnits: number;
  regret: number;
  /** Estimate of best − control and its reported SE (NaN when an arm has < 2 units). */
  effect: number;
  se: number;
  covered: boolean;
}

interface Run {
  fixed: DesignRun;
  bandit: DesignRun;
  /** The bandit's final allocation, in arm order. */
  finalProbabilities: number[];
}

const z = normQuantile(1 - alpha / 2);

/** The treatment compared with control: the truly best one (the first of equals). */
function comparedArm(means: readonly number[]): number {
  let best = 1;
  for (let i = 2; i < means.length; i++) if (means[i]! > means[best]!) best = i;
  return best;
}

function simulate(means: readonly number[], run: number): Run {
  const k = means.length;
  const top = Math.max(...means);
  const target = comparedArm(means);
  const truth = means[target]! - means[0]!;
  const arms = means.map((_, i) => (i === 0 ? "control" : `treatment-${i}`));
  const policy: BanditPolicy = { ...banditConfig, arms, kind: "binary", direction: "increase" };
  const salt = `bench-bandit:${seed + run}`;
  const outcome = uniform.factory(0, 1, { seed: seed + run });

  const equal = new Array<number>(k).fill(1 / k);
  const fixedN = new Array<number>(k).fill(0);
  const fixedSuccesses = new Array<number>(k).fill(0);
  const fixed = { worseUnits: 0, regret: 0 };
  const bandit = { worseUnits: 0, regret: 0 };
  const charge = (tally: typeof fixed, arm: number): void => {
    if (means[arm]! < top) tally.worseUnits++;
    tally.regret += top - means[arm]!;
  };
  const stats: ArmStats[] = arms.map(() => ({ n: 0, sum: 0, sumSquares: 0 }));
  const records: PropensityRecord[] = [];
  let allocation = initialAllocation(arms);
  let probabilities = arms.map((arm) => allocation.probabilities[arm] ?? 0);

  for (let i = 0; i < units; i++) {
    const draw = unitDraw(salt, `unit-${i}`);
    const w = outcome();

    const f = pickArm(equal, draw);
    fixedN[f]!++;
    if (w < means[f]!) fixedSuccesses[f]!++;
    charge(fixed, f);

    const b = pickArm(probabilities, draw);
    const reward = w < means[b]! ? 1 : 0;
    records.push({ arm: b, propensity: probabilities[b]!, reward });
    charge(bandit, b);
    const s = stats[b]!;
    s.n++;
    s.sum += reward;
    s.sumSquares += reward;
    // now = 0 throughout: only the reward count triggers updates (no clock is simulated).
    if (updateDue(policy, allocation, i + 1, 0)) {
      allocation = nextAllocation(policy, salt, allocation, stats, i + 1, 0);
      probabilities = arms.map((arm) => allocation.probabilities[arm] ?? 0);
    }
  }

  const plain = twoProportionZTest(
    { n: fixedN[0]!, successes: fixedSuccesses[0]! },
    { n: fixedN[target]!, successes: fixedSuccesses[target]! },
    { alpha },
  );
  const weighted = ipwArmMeans(records, k, alpha);
  const effect = weighted[target]!.mean - weighted[0]!.mean;
  const se = Math.hypot(weighted[target]!.se, weighted[0]!.se);
  return {
    fixed: {
      ...fixed,
      effect: plain.effect,
      se: plain.se,
      covered: Math.abs(plain.effect - truth) <= z * plain.se,
    },
    bandit: { ...bandit, effect, se, covered: Math.abs(effect - truth) <= z * se },
    finalProbabilities: probabilities,
  };
}

/** Child process: the runs r ≡ shard (mod jobs) of every scenario, one JSON line each. */
if (values.shard !== undefined) {
  const shard = Number(values.shard);
  for (let s = 0; s < SCENARIOS.length; s++)
    for (let r = shard; r < runs; r += jobs)
      process.stdout.write(`${JSON.stringify({ s, r, run: simulate(SCENARIOS[s]!.means, r) })}\n`);
  // Pipe writes are asynchronous on some platforms: exit once the last one has been flushed.
  await new Promise((flushed) => process.stdout.write("", flushed));
  process.exit(0);
}

const started = performance.now();
const results: Run[][] = SCENARIOS.map(() => []);
let done = 0;
const progress = (): void => {
  done++;
  if (process.stderr.isTTY) process.stderr.write(`\rrun ${done}/${runs * SCENARIOS.length}`);
  else if (done % runs === 0) process.stderr.write(`${done}/${runs * SCENARIOS.length} runs\n`);
};
if (jobs === 1) {
  SCENARIOS.forEach((scenario, s) => {
    for (let r = 0; r < runs; r++) {
      results[s]![r] = simulate(scenario.means, r);
      progress();
    }
  });
} else {
  const runTs = fileURLToPath(new URL("../bin/run-ts.mjs", import.meta.url));
  const self = fileURLToPath(import.meta.url);
  await Promise.all(
    Array.from({ length: Math.min(jobs, runs) }, async (_, shard) => {
      const child = spawn(process.execPath, [runTs, self, ...process.argv.slice(2), "--shard", `${shard}`], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let errors = "";
      child.stderr.on("data", (chunk: Buffer) => {
        errors = (errors + chunk.toString()).slice(-4000);
      });
      const exited = new Promise<number | null>((closed) => child.once("close", closed));
      for await (const line of createInterface({ input: child.stdout })) {
        const { s, r, run } = JSON.parse(line) as { s: number; r: number; run: Run };
        results[s]![r] = run;
        progress();
      }
      const code = await exited;
      if (code !== 0) throw new Error(`job ${shard} exited with ${code}:\n${errors}`);
    }),
  );
}
if (process.stderr.isTTY) process.stderr.write("\n");

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: readonly number[]): number => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const int = (x: number): string => Math.round(x).toLocaleString("en-US");
const ratio = (b: number, f: number): string => (f > 0 ? (b / f).toFixed(2) : "—");
const signed = (x: number): string => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(4)}`;
const nominal = 1 - alpha;

console.log(
  `Fixed equal split vs bandit (floor ${banditConfig.floor}, burn-in ${banditConfig.burnIn}, update every ${banditConfig.updateEvery} rewards, ${banditConfig.draws} draws); ${runs} runs × ${int(units)} units, seed ${seed}, alpha ${alpha}`,
);
/** Per scenario, for the takeaway: regret ratio and the ratio of the actual spreads. */
const summary: { regretRatio: number; spreadRatio: number; equal: boolean }[] = [];
SCENARIOS.forEach(({ name, means }, s) => {
  const all = results[s]!;
  const top = Math.max(...means);
  const best = means.filter((m) => m === top).length === 1 ? means.indexOf(top) : -1;
  const target = comparedArm(means);
  const truth = means[target]! - means[0]!;
  // A run whose bandit left control or the compared arm with < 2 units has no IPW SE (only
  // possible with --floor 0): it still counts for regret, not for precision.
  const estimated = all.filter((x) => Number.isFinite(x.bandit.se) && Number.isFinite(x.fixed.se));
  const of = (design: "fixed" | "bandit", key: keyof DesignRun, from = estimated): number[] =>
    from.map((x) => Number(x[design][key]));
  const rms = (xs: number[]): number => Math.sqrt(mean(xs.map((x) => x * x)));
  const [worseF, worseB] = [mean(of("fixed", "worseUnits", all)), mean(of("bandit", "worseUnits", all))];
  const [regretF, regretB] = [mean(of("fixed", "regret", all)), mean(of("bandit", "regret", all))];
  const [seF, seB] = [rms(of("fixed", "se")), rms(of("bandit", "se"))];
  const [spreadF, spreadB] = [sd(of("fixed", "effect")), sd(of("bandit", "effect"))];
  const [coverF, coverB] = [mean(of("fixed", "covered")), mean(of("bandit", "covered"))];
  summary.push({ regretRatio: regretB / regretF, spreadRatio: spreadB / spreadF, equal: best < 0 });

  const label = best < 0 ? `arm ${target} − control` : "best − control";
  const topShare = mean(all.map((x) => Math.max(...x.finalProbabilities)));
  const favoured = mean(
    all.map((x) => (x.finalProbabilities.indexOf(Math.max(...x.finalProbabilities)) === best ? 1 : 0)),
  );
  // A sample SD's relative standard error is about 1/√(2(n − 1)) (normal estimates).
  const sdError = pct(1 / Math.sqrt(2 * (estimated.length - 1)));
  const rows: string[][] = [
    ["", "fixed split", "bandit", "bandit / fixed"],
    ["units sent to worse arms (mean per run)", int(worseF), int(worseB), ratio(worseB, worseF)],
    [
      "expected reward lost, regret (mean per run)",
      regretF.toFixed(1),
      regretB.toFixed(1),
      ratio(regretB, regretF),
    ],
    [`SE of ${label}, as reported (RMS)`, seF.toFixed(4), seB.toFixed(4), ratio(seB, seF)],
    [
      `SD of ${label} over runs (±${sdError})`,
      spreadF.toFixed(4),
      spreadB.toFixed(4),
      ratio(spreadB, spreadF),
    ],
    [
      `bias of ${label} (true ${signed(truth)})`,
      signed(mean(of("fixed", "effect")) - truth),
      signed(mean(of("bandit", "effect")) - truth),
      "",
    ],
    [`${pct(nominal)} interval covers the true difference`, pct(coverF), pct(coverB), ""],
    best < 0
      ? ["final allocation: top arm's probability (mean)", "—", pct(topShare), ""]
      : ["final allocation favours the best arm (runs)", "—", pct(favoured), ""],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  console.log(`\n${name} (control = arm 0)`);
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  for (const r of rows) console.log(line(r).trimEnd());
  // 99% band of a share over this many runs: coverage outside it is not Monte Carlo noise.
  const band = 2.576 * Math.sqrt((nominal * (1 - nominal)) / estimated.length);
  for (const [design, cover] of [
    ["IPW", coverB],
    ["fixed-split", coverF],
  ] as const) {
    const within = Math.abs(cover - nominal) <= band;
    if (design === "IPW" || !within)
      console.log(
        `  ${design} coverage ${pct(cover)} is ${within ? "within Monte Carlo error of" : cover < nominal ? "BELOW" : "ABOVE"} nominal ${pct(nominal)} (99% band ±${pct(band)} over ${estimated.length} runs)`,
      );
  }
  if (estimated.length < all.length)
    console.log(`  ${all.length - estimated.length} runs had no IPW SE (an arm with < 2 units)`);
});

const span = (xs: number[], digits: number): string => {
  const [lo, hi] = [Math.min(...xs).toFixed(digits), Math.max(...xs).toFixed(digits)];
  return lo === hi ? lo : `${lo}–${hi}`;
};
const better = summary.filter((x) => !x.equal);
const equalArms = summary.filter((x) => x.equal);
const saved = span(
  better.map((x) => x.regretRatio),
  2,
);
const noisier = span(
  better.map((x) => x.spreadRatio),
  1,
);
const moreUnits = span(
  better.map((x) => x.spreadRatio ** 2),
  1,
);
const onEqual = equalArms.map((x) => x.spreadRatio.toFixed(1)).join(", ");
console.log(
  `\nTakeaway: with a better arm the bandit loses ${saved}× the fixed split's regret, but its best-vs-control estimate is ${noisier}× as noisy (${moreUnits}× the units for the same precision)${onEqual === "" ? "" : `; with equal arms it saves nothing and is still ${onEqual}× as noisy`}.`,
);
console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
