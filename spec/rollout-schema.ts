/**
 * Who is randomized (`unit`) and how much traffic the treatment gets (`rollout`).
 */
import { z } from "zod";
import { didYouMean } from "./closest-name.ts";
import { describeValue } from "./issue-messages.ts";
import { between } from "./primitives.ts";

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

export const rolloutModes = ["shadow", "canary", "ab"] as const;
export type RolloutMode = (typeof rolloutModes)[number];

/** Treatment percent when the spec gives none: a canary starts small, shadow sends users none. */
export const defaultTreatmentPercent: Readonly<Record<RolloutMode, number>> = {
  ab: 50,
  canary: 5,
  shadow: 0,
};
/** Mirrored percent when the spec gives none: shadow copies every request, other modes none. */
export const defaultMirrorPercent: Readonly<Record<RolloutMode, number>> = { ab: 0, canary: 0, shadow: 100 };

export const rolloutSchema = z
  .strictObject({
    mode: z
      .enum(rolloutModes)
      .describe(
        "`shadow`: users see control only, requests are mirrored to the treatment and its answers discarded; `canary`: a small share of units see the treatment, to watch guardrails; `ab`: a split for the statistical comparison.",
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
  })
  .transform((rollout) => ({
    mode: rollout.mode,
    treatmentPercent: rollout.treatmentPercent ?? defaultTreatmentPercent[rollout.mode],
    mirrorPercent: rollout.mirrorPercent ?? defaultMirrorPercent[rollout.mode],
  }))
  .describe("How traffic reaches the treatment. Ramps and pauses are runtime state, not spec.");
