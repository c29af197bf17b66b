/**
 * `analysis` (how the verdict is computed) and `gate` (what the offline arena must show first).
 */
import { z } from "zod";
import { between, intAtLeast } from "./primitives.ts";

export const corrections = ["none", "bonferroni", "holm", "benjamini-hochberg"] as const;
export const spendingFunctions = ["obrien-fleming", "pocock"] as const;

export const sequentialSchema = z
  .strictObject({
    looks: z
      .array(between(0, 1, { exclusiveMin: true }))
      .min(1)
      .describe(
        "Planned looks as fractions of the planned sample, strictly increasing and ending at 1, e.g. [0.25, 0.5, 0.75, 1].",
      ),
    spending: z
      .enum(spendingFunctions)
      .default("obrien-fleming")
      .describe(
        "Alpha-spending function (Lan-DeMets): `obrien-fleming` demands strong evidence early, `pocock` spends evenly. Default obrien-fleming.",
      ),
  })
  .describe("Group-sequential design registered before launch. Absent: one fixed-horizon analysis.");

export const analysisSchema = z
  .strictObject({
    alpha: between(0, 1, { exclusiveMin: true, exclusiveMax: true })
      .default(0.05)
      .describe("Two-sided false-positive rate for primary metrics. Default 0.05."),
    power: between(0, 1, { exclusiveMin: true, exclusiveMax: true })
      .default(0.8)
      .describe("Probability of detecting an effect of the MDE, used for sizing. Default 0.8."),
    correction: z
      .enum(corrections)
      .default("benjamini-hochberg")
      .describe(
        "Multiple-testing correction across metrics: FDR control (benjamini-hochberg), FWER (bonferroni, holm) or none. Default benjamini-hochberg.",
      ),
    srmThreshold: between(0, 1, { exclusiveMin: true, exclusiveMax: true })
      .default(0.001)
      .describe(
        "Sample-ratio-mismatch alarm: a chi-square p-value below this flags broken assignment. Default 0.001.",
      ),
    sequential: sequentialSchema
      .optional()
      .describe("Group-sequential design registered before launch. Absent: one fixed-horizon analysis."),
    dailyUnits: intAtLeast(1)
      .optional()
      .describe(
        "Expected new units per day across all variants, to turn sample size into days. Absent: no duration estimate.",
      ),
    maxDays: intAtLeast(1)
      .optional()
      .describe(
        "Longest the experiment may run; sizing that needs more days is reported as infeasible. Absent: no limit.",
      ),
  })
  .describe("Statistical analysis settings.");

export const gateSchema = z
  .strictObject({
    required: z
      .boolean()
      .default(false)
      .describe(
        "Whether `pulumi up` refuses to expose live traffic without a passing offline gate for this spec. Default false.",
      ),
    minWinRateLowerBound: between(0, 1)
      .default(0.5)
      .describe(
        "The lower confidence bound of the treatment's pairwise win rate must exceed this (0.5: better than a coin flip). Default 0.5.",
      ),
    maxAxisRegression: z
      .number()
      .min(0)
      .default(0.25)
      .describe("Largest allowed drop of any rubric axis's mean score, in rubric points. Default 0.25."),
    minCases: intAtLeast(1)
      .default(30)
      .describe(
        "Golden cases the gate needs before it can pass: intervals on a handful of cases say little. Default 30.",
      ),
    minAuditLabels: intAtLeast(1)
      .default(20)
      .describe(
        "Human audit labels on judged cases needed to measure the judge's agreement; fewer and agreement is unknown (the gate fails). Default 20.",
      ),
    minJudgeAgreement: between(-1, 1)
      .default(0.6)
      .describe("Judge–human agreement (Cohen's kappa) on the audit set must reach this. Default 0.6."),
  })
  .describe("Offline gate (llm-ab arena) thresholds.");
