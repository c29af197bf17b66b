/**
 * Who is randomized (`unit`) and how much traffic the treatment gets (`rollout`).
 */
import { z } from "zod";
import { didYouMean } from "./closest-name.ts";
import { describeValue } from "./issue-messages.ts";
import { between, duration, durationSeconds, intAtLeast, metricName } from "./primitives.ts";

export const unitKinds = ["user", "conversation", "session", "request"] as const;
/** `cluster:<attribute>` randomizes whole groups (team, organization, document) that share effects. */
export const CLUSTER_UNIT = /^cluster:[a-z][a-z0-9_.-]*$/;
export type RandomizationUnit = (typeof unitKinds)[number] | `cluster:${string}`;

export const unitSchema = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? `is required: one of ${unitKinds.join(", ")} or cluster:<attribute>`
        : `must be one of ${unitKinds.join(", ")} or cluster:<attribute>, got ${describeValue(issue.input)}`,
  })
  .refine(
    (value): value is RandomizationUnit =>
      (unitKinds as readonly string[]).includes(value) || CLUSTER_UNIT.test(value),
    {
      error: (issue) =>
        `must be one of ${unitKinds.join(", ")} or cluster:<attribute> (attribute: lowercase letter, then letters, digits, _ . -), got ${describeValue(issue.input)}${typeof issue.input === "string" ? didYouMean(issue.input, unitKinds) : ""}`,
    },
  )
  .describe(
    "Randomization unit: every request of one unit gets the same variant. `conversation` or `user` for chat; `request` only when turns are independent; `cluster:<attribute>` when units influence each other.",
  );

export const rolloutModes = ["shadow", "canary", "ab", "bandit"] as const;
export type RolloutMode = (typeof rolloutModes)[number];

/** Treatment percent when the spec gives none: a canary starts small, shadow sends users none. */
export const defaultTreatmentPercent: Readonly<Record<RolloutMode, number>> = {
  ab: 50,
  canary: 5,
  shadow: 0,
  // The bandit sets every arm's share itself; this is only the burn-in's equal split for one
  // treatment (the router splits equally among all arms during burn-in whatever their number).
  bandit: 50,
};
/** Mirrored percent when the spec gives none: shadow copies every request, other modes none. */
export const defaultMirrorPercent: Readonly<Record<RolloutMode, number>> = {
  ab: 0,
  canary: 0,
  shadow: 100,
  bandit: 0,
};

/**
 * `rollout.bandit`: Thompson sampling over the arms (stats/thompson.ts), fed by one outcome metric.
 * Why each knob exists: the floor keeps every arm learnable and every propensity ≥ floor, which
 * bounds the inverse-propensity weights the analysis uses (1/floor); burn-in stops a handful of
 * early rewards from starving an arm; batched updates make the allocation a shared, versioned value
 * every router replica reads, instead of each replica drifting on its own slice of rewards; the
 * reward window ties a reward to the exposure that earned it and drops rewards too late to be about it.
 */
export const banditSchema = z
  .strictObject({
    reward: metricName.describe(
      "The outcome metric the bandit maximises (or minimises, per the metric's direction): a binary (Beta–Bernoulli) or continuous (normal) primary or secondary metric posted to POST /v1/outcomes. Post failures too (0 for a binary reward): a reward posted only on success makes every arm look perfect. The bandit learns each unit's first reward within rewardWindow; analyze reads the unit's reduced value (last for binary, mean otherwise).",
    ),
    floor: between(0, 0.5, { exclusiveMin: true })
      .default(0.05)
      .describe(
        "Lowest allocation probability of any arm, > 0, so every arm keeps learning and inverse-propensity weights stay ≤ 1/floor (a zero floor lets an arm's probability reach 0, after which it never returns and its weights are unbounded). Must be below 1/arms. Default 0.05.",
      ),
    burnIn: intAtLeast(0)
      .default(100)
      .describe("Rewards every arm needs before allocation leaves the equal split. Default 100."),
    updateEvery: intAtLeast(1)
      .default(100)
      .describe(
        "Rewards between posterior updates; all router replicas share one update through the store. Default 100.",
      ),
    maxUpdateInterval: duration
      .default("1m")
      .describe(
        "An update also happens when the allocation is this old and new rewards arrived. Default 1m.",
      ),
    rewardWindow: duration
      .default("1h")
      .describe(
        "A reward counts for the bandit only if it arrives within this time of its unit's first assignment; later ones are logged (and analysed) but not learned from. Default 1h.",
      ),
    draws: intAtLeast(1000)
      .default(10000)
      .describe(
        "Posterior draws per update for P(arm is best) (Monte Carlo, seeded by the update's version). Default 10000.",
      ),
  })
  .describe("Thompson-sampling allocation (mode bandit only).");

export type BanditConfig = z.output<typeof banditSchema> & {
  maxUpdateIntervalSeconds: number;
  rewardWindowSeconds: number;
};

export const rolloutSchema = z
  .strictObject({
    mode: z
      .enum(rolloutModes)
      .describe(
        "`shadow`: users see control only, requests are mirrored to the treatment and its answers discarded; `canary`: a small share of units see the treatment, to watch guardrails; `ab`: a split for the statistical comparison; `bandit`: Thompson sampling moves units toward the better arm while it learns (see `bandit`).",
      ),
    treatmentPercent: between(0, 100)
      .optional()
      .describe(
        "Percent of units assigned to treatment (split equally among treatments). Default by mode: ab 50, canary 5, shadow 0 (shadow must be 0).",
      ),
    mirrorPercent: between(0, 100)
      .optional()
      .describe(
        "Shadow mode: percent of control requests also sent to the treatment (it doubles their inference work). Default by mode: shadow 100, otherwise 0 (only shadow mirrors).",
      ),
    bandit: banditSchema
      .optional()
      .describe("Mode bandit: the Thompson-sampling settings (required then, refused otherwise)."),
  })
  // Checked here, before the defaults fill treatmentPercent in, because only the author's own
  // value is wrong in mode bandit (the cross-field checks see the parsed value with its default).
  .superRefine((rollout, ctx) => {
    if (rollout.mode === "bandit" && rollout.treatmentPercent !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["treatmentPercent"],
        message:
          "is set by the bandit in mode bandit (equal split during burn-in, then Thompson sampling): remove it",
      });
    }
    if (rollout.mode === "bandit" && rollout.bandit === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["bandit"],
        message: "is required in mode bandit: at least { reward: <a binary or continuous outcome metric> }",
      });
    }
    if (rollout.mode !== "bandit" && rollout.bandit !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["bandit"],
        message: `is only read in mode bandit, got mode ${rollout.mode}: remove it or set rollout.mode: bandit`,
      });
    }
  })
  .transform((rollout) => ({
    mode: rollout.mode,
    treatmentPercent: rollout.treatmentPercent ?? defaultTreatmentPercent[rollout.mode],
    mirrorPercent: rollout.mirrorPercent ?? defaultMirrorPercent[rollout.mode],
    ...(rollout.bandit === undefined
      ? {}
      : {
          bandit: {
            ...rollout.bandit,
            maxUpdateIntervalSeconds: durationSeconds(rollout.bandit.maxUpdateInterval),
            rewardWindowSeconds: durationSeconds(rollout.bandit.rewardWindow),
          } satisfies BanditConfig,
        }),
  }))
  .describe("How traffic reaches the treatment. Ramps and pauses are runtime state, not spec.");
