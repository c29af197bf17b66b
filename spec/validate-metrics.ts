/**
 * Cross-field checks of `metrics`: what each metric kind needs to be sized and computed, unique
 * names, and guardrails that name a known metric with a threshold that can actually fire.
 */
import { didYouMean } from "./closest-name.ts";
import {
  type Draft,
  type DraftProblem,
  draftAt,
  entriesAt,
  field,
  itemsAt,
  numberAt,
  oneOfAt,
  stringAt,
} from "./draft.ts";
import { guardrailMetric, guardrailMetricNames, isCostMetric } from "./guardrail-metrics.ts";
import { metricDirections, metricKinds, replicaStates, targetValue } from "./metrics-schema.ts";

type Path = (string | number)[];
const sections = ["primary", "secondary"] as const;

/** Every problem of `metrics` that spans more than one field (kind requirements, names, guardrails). */
export function metricProblems(spec: Draft): DraftProblem[] {
  const metrics = draftAt(spec, "metrics");
  if (metrics === undefined) return [];
  const problems: DraftProblem[] = [];
  const declared = new Map<string, Draft>();
  for (const section of sections) {
    for (const [index, metric] of itemsAt(metrics, section)) {
      const path: Path = ["metrics", section, index];
      problems.push(...metricKindProblems(metric, path, section === "primary"));
      const name = stringAt(metric, "name");
      if (name === undefined) continue;
      if (guardrailMetric(name) !== undefined) {
        problems.push({
          path: [...path, "name"],
          message: `"${name}" is a built-in router metric (guardrails use it directly): give this outcome metric another name`,
        });
      } else if (declared.has(name)) {
        problems.push({
          path: [...path, "name"],
          message: `"${name}" is declared twice: metric names must be unique across primary and secondary`,
        });
      } else declared.set(name, metric);
    }
  }
  // Outcome guardrails are looked up among the declared metrics, which are only all known when both
  // lists are lists (or absent).
  const declaredComplete = sections.every((section) => {
    const list = field(metrics, section);
    return list === undefined || Array.isArray(list);
  });
  problems.push(...guardrailProblems(spec, metrics, declared, declaredComplete));
  return problems;
}

function metricKindProblems(metric: Draft, path: Path, primary: boolean): DraftProblem[] {
  const kind = oneOfAt(metric, "kind", metricKinds);
  if (kind === undefined) return [];
  const problems: DraftProblem[] = [];
  const at = (key: string, message: string) => problems.push({ path: [...path, key], message });
  const has = (key: string) => field(metric, key) !== undefined;
  const baseline = numberAt(metric, "baseline");

  if (has("mde") && has("relativeMde")) {
    at("relativeMde", "give either mde (absolute) or relativeMde (relative to baseline), not both");
  }
  if (has("relativeMde") && !has("baseline")) {
    at("baseline", "is required with relativeMde (the MDE is a fraction of it)");
  }
  if (has("relativeMde") && baseline === 0) {
    at("baseline", "must not be 0 when relativeMde is given (the MDE is a fraction of it)");
  }
  if (kind !== "ratio") {
    for (const key of ["numerator", "denominator"]) {
      if (has(key)) at(key, `is only used by ratio metrics, not ${kind} ones: remove it or set kind: ratio`);
    }
  }

  if (kind === "binary") {
    if (has("sd")) {
      at("sd", "is not used by binary metrics (their variance follows from the baseline rate): remove it");
    }
    if (baseline !== undefined && !(baseline > 0 && baseline < 1)) {
      at("baseline", `must be a rate strictly between 0 and 1 for a binary metric, got ${baseline}`);
    } else {
      const direction = oneOfAt(metric, "direction", metricDirections) ?? "increase";
      const target = targetValue({
        baseline,
        mde: numberAt(metric, "mde"),
        relativeMde: numberAt(metric, "relativeMde"),
        direction,
      });
      if (baseline !== undefined && target !== undefined && !(target > 0 && target < 1)) {
        const key = has("mde") ? "mde" : "relativeMde";
        at(
          key,
          `moves the baseline rate ${baseline} to ${Number(target.toPrecision(6))} (direction ${direction}), outside (0, 1): a rate cannot get there, so pick a smaller effect`,
        );
      }
    }
  }
  if (kind === "ratio") {
    if (!has("numerator")) {
      at("numerator", "is required for a ratio metric (the per-unit field summed on top)");
    }
    if (!has("denominator")) {
      at("denominator", "is required for a ratio metric (the per-unit field summed below)");
    }
    const numerator = stringAt(metric, "numerator");
    if (numerator !== undefined && numerator === stringAt(metric, "denominator")) {
      at("denominator", `must differ from numerator ("${numerator}"): the ratio would always be 1`);
    }
  }
  if (primary) {
    if (!has("mde") && !has("relativeMde")) {
      at(
        "mde",
        "is required for a primary metric, or relativeMde instead: sizing needs the smallest effect worth detecting",
      );
    }
    if (kind === "binary" && !has("baseline")) {
      at("baseline", "is required for a binary primary metric: the control's expected rate, in (0, 1)");
    }
    if (kind !== "binary" && !has("sd")) {
      at(
        "sd",
        `is required for a ${kind} primary metric: the standard deviation per unit, from history or a pilot`,
      );
    }
  }
  return problems;
}

function guardrailProblems(
  spec: Draft,
  metrics: Draft,
  declared: Map<string, Draft>,
  declaredComplete: boolean,
): DraftProblem[] {
  const problems: DraftProblem[] = [];
  const seen = new Map<string, number>();
  const costGuardrails: [number, string][] = [];
  for (const [index, guardrail] of itemsAt(metrics, "guardrails")) {
    const path: Path = ["metrics", "guardrails", index];
    const at = (key: string, message: string) => problems.push({ path: [...path, key], message });
    const name = stringAt(guardrail, "name");
    if (name === undefined) continue;
    const builtIn = guardrailMetric(name);
    const outcome = declared.get(name);
    if (builtIn === undefined && outcome === undefined) {
      if (declaredComplete) {
        const known = [...guardrailMetricNames, ...declared.keys()];
        at(
          "name",
          `unknown guardrail metric "${name}": use a built-in metric (${guardrailMetricNames.join(", ")}) or a metric declared in metrics.primary or metrics.secondary${didYouMean(name, known)}`,
        );
      }
      continue;
    }
    const state = oneOfAt(guardrail, "replicaState", replicaStates);
    if ((state === "warm" || state === "cold") && !builtIn?.supportsReplicaState) {
      at(
        "replicaState",
        `only latency metrics (ttft_*, tpot_*, itl_*, e2e_*) are measured per replica state; "${name}" is not, so remove replicaState or set it to any`,
      );
    }
    const higherIsBetter =
      outcome !== undefined && (oneOfAt(outcome, "direction", metricDirections) ?? "increase") === "increase";
    const thresholds = ["max", "min", "relativeMax"].filter((key) => field(guardrail, key) !== undefined);
    if (thresholds.length === 0) {
      const absolute = higherIsBetter ? "min (absolute floor)" : "max (absolute ceiling)";
      problems.push({
        path,
        message: `needs a threshold: ${absolute} and/or relativeMax (allowed regression versus control)`,
      });
    }
    if (higherIsBetter && field(guardrail, "max") !== undefined) {
      at(
        "max",
        `"${name}" is higher-is-better, so a ceiling cannot catch its regressions: use min (absolute floor)`,
      );
    }
    if (!higherIsBetter && field(guardrail, "min") !== undefined) {
      at(
        "min",
        `"${name}" is lower-is-better, so a floor cannot catch its regressions: use max (absolute ceiling)`,
      );
    }
    const max = numberAt(guardrail, "max");
    if (builtIn !== undefined && max !== undefined) {
      if (max < 0) at("max", `must be at least 0 (${name} is never negative), got ${max}`);
      else if (builtIn.unit === "ratio" && max > 1) {
        at("max", `must be at most 1 (${name} is a fraction: 0.001 is 0.1 %), got ${max}`);
      }
    }
    const identity = `${name}\u0000${state ?? "any"}\u0000${stringAt(guardrail, "action") ?? "review"}`;
    const twin = seen.get(identity);
    if (twin !== undefined) {
      problems.push({
        path,
        message: `repeats metrics.guardrails[${twin}] (same metric, replicaState and action): merge their thresholds into one`,
      });
    } else seen.set(identity, index);
    if (isCostMetric(name)) costGuardrails.push([index, name]);
  }
  problems.push(...missingPrices(spec, costGuardrails));
  return problems;
}

/** Cost guardrails read `llmab_cost_usd_total`, which the router can only compute from a price. */
function missingPrices(spec: Draft, costGuardrails: [number, string][]): DraftProblem[] {
  const first = costGuardrails[0];
  if (first === undefined) return [];
  const [index, name] = first;
  const used = new Set(entriesAt(spec, "variants").map(([, variant]) => stringAt(variant, "deployment")));
  const problems: DraftProblem[] = [];
  for (const [deploymentName, deployment] of entriesAt(spec, "deployments")) {
    if (!used.has(deploymentName) || field(deployment, "price") !== undefined) continue;
    problems.push({
      path: ["deployments", deploymentName, "price"],
      message: `is required because guardrail metrics.guardrails[${index}] (${name}) needs each variant's cost: give inputPerMillionTokens and outputPerMillionTokens in USD`,
    });
  }
  return problems;
}
