/**
 * The experiment spec: one declarative document that drives the router, the Prometheus rules, the
 * Pulumi program and the statistics. Every default lives here (or in the section schemas it is
 * assembled from), stated in the field's description, so a reader never has to guess.
 *
 * Parse through `parseSpec` / `loadSpecFile` (load.ts) rather than this schema directly: they
 * turn zod's issues into the path-and-sentence problems people read.
 */
import { z } from "zod";
import { analysisSchema, gateSchema } from "./analysis-schema.ts";
import { deploymentsSchema } from "./deployment-schema.ts";
import { metricsSchema } from "./metrics-schema.ts";
import { experimentName, text } from "./primitives.ts";
import { rolloutSchema, unitSchema } from "./rollout-schema.ts";
import { monitoringSchema, routerSchema } from "./runtime-schema.ts";
import { crossFieldProblems } from "./validate.ts";
import { defaultVariantRole, variantsSchema } from "./variant-schema.ts";

const specShape = z.strictObject({
  name: experimentName.describe(
    "Experiment name, used in labels and resource names: 1–50 of [a-z0-9-], starting and ending with a letter or digit.",
  ),
  hypothesis: text.describe(
    "What the treatment is expected to change, and by how much, written before launch.",
  ),
  owner: text.optional().describe("Team or person accountable for the experiment. Absent: none recorded."),
  unit: unitSchema,
  salt: text
    .optional()
    .describe("Hashing salt; changing it re-randomizes every unit. Default: the experiment name."),
  hashVersion: z
    .literal(1)
    .default(1)
    .describe(
      "Version of the bucket-hashing scheme (only 1 exists), so assignments stay reproducible. Default 1.",
    ),
  rollout: rolloutSchema,
  variants: variantsSchema,
  deployments: deploymentsSchema,
  metrics: metricsSchema,
  analysis: analysisSchema
    .prefault({})
    .describe("How the verdict is computed. Default: every field's own default (alpha 0.05, power 0.8, …)."),
  monitoring: monitoringSchema
    .prefault({})
    .describe("Guardrail evaluation timing. Default: every field's own default (1m interval, 5m window)."),
  router: routerSchema
    .prefault({})
    .describe("Router settings. Default: every field's own default (memory store, standard unit headers)."),
  gate: gateSchema
    .prefault({})
    .describe("Offline gate thresholds. Default: not required, with every threshold's own default."),
});

type ParsedShape = z.output<typeof specShape>;

/** Defaults that depend on other fields: salt on name, role on the variant's key, model on its deployment. */
function resolveDerived(spec: ParsedShape) {
  const declared = [...spec.metrics.primary, ...spec.metrics.secondary];
  const variants = Object.fromEntries(
    Object.entries(spec.variants).map(([key, variant]) => [
      key,
      {
        ...variant,
        role: variant.role ?? defaultVariantRole(key),
        // The cross-field checks guarantee the deployment exists before this transform runs.
        model: variant.model ?? spec.deployments[variant.deployment]?.servedModelName ?? variant.deployment,
      },
    ]),
  );
  const guardrails = spec.metrics.guardrails.map((guardrail) => ({
    ...guardrail,
    /** Which way is good for the guarded metric: built-in metrics are lower-is-better. */
    direction: declared.find((metric) => metric.name === guardrail.name)?.direction ?? ("decrease" as const),
  }));
  return { ...spec, salt: spec.salt ?? spec.name, variants, metrics: { ...spec.metrics, guardrails } };
}

/** The whole experiment spec, with cross-field checks and derived defaults. */
export const experimentSpecSchema = specShape
  .superRefine(
    (value, ctx) => {
      for (const problem of crossFieldProblems(value)) {
        ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
      }
    },
    // Run even when other fields failed, so every problem is reported in one pass.
    { when: () => true },
  )
  .transform(resolveDerived);

/** A parsed, valid spec with every default applied. */
export type ExperimentSpec = z.output<typeof experimentSpecSchema>;
/** What an author may write: optional fields may be left out. */
export type ExperimentSpecInput = z.input<typeof experimentSpecSchema>;
export type Variant = ExperimentSpec["variants"][string];
export type Deployment = ExperimentSpec["deployments"][string];
export type Metric = ExperimentSpec["metrics"]["primary"][number];
export type Guardrail = ExperimentSpec["metrics"]["guardrails"][number];
export type Rollout = ExperimentSpec["rollout"];
export type Analysis = ExperimentSpec["analysis"];
export type Monitoring = ExperimentSpec["monitoring"];
export type RouterSettings = ExperimentSpec["router"];
export type Gate = ExperimentSpec["gate"];
