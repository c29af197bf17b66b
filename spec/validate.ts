/**
 * Cross-field checks: rules that relate one part of the spec to another (a variant's deployment
 * must exist, replicas.max ≥ replicas.min, shadow mode sends no live traffic, …).
 *
 * They are attached to the top-level schema with a `when` that always runs them, so they are
 * collected together with zod's own issues even when other fields are broken: one validation run
 * lists everything to fix. That is why they read a draft (see draft.ts) rather than typed output.
 */
import { didYouMean } from "./closest-name.ts";
import { managedVllmFlags } from "./deployment-schema.ts";
import {
  asDraft,
  type Draft,
  type DraftProblem,
  draftAt,
  entriesAt,
  field,
  numberAt,
  numbersAt,
  oneOfAt,
  stringAt,
  stringsAt,
} from "./draft.ts";
import { describeValue } from "./issue-messages.ts";
import { durationSeconds } from "./primitives.ts";
import { rolloutModes } from "./rollout-schema.ts";
import { banditProblems } from "./validate-bandit.ts";
import { metricProblems } from "./validate-metrics.ts";
import { defaultVariantRole, type VariantRole, variantRoles } from "./variant-schema.ts";

/** Every cross-field problem of a (possibly partly invalid) spec value; empty when none is found. */
export function crossFieldProblems(value: unknown): DraftProblem[] {
  const spec = asDraft(value);
  if (spec === undefined) return [];
  return [
    ...variantProblems(spec),
    ...rolloutProblems(spec),
    ...deploymentProblems(spec),
    ...metricProblems(spec),
    ...analysisProblems(spec),
    ...runtimeProblems(spec),
  ];
}

function knownList(names: readonly string[]): string {
  return names.length === 0 ? "none declared" : `known: ${names.join(", ")}`;
}

function variantProblems(spec: Draft): DraftProblem[] {
  const problems: DraftProblem[] = [];
  const variantsRecord = draftAt(spec, "variants");
  const deploymentsRecord = draftAt(spec, "deployments");
  const deploymentNames = deploymentsRecord === undefined ? undefined : Object.keys(deploymentsRecord);
  const variants = entriesAt(spec, "variants");

  const roles = new Map<string, VariantRole>();
  // Only when every entry is readable can the set of variants be judged as a whole.
  const allReadable = variantsRecord !== undefined && variants.length === Object.keys(variantsRecord).length;
  let rolesKnown = allReadable;
  let referencesKnown = allReadable;
  for (const [key, variant] of variants) {
    const deployment = stringAt(variant, "deployment");
    if (deployment === undefined || !deploymentNames?.includes(deployment)) referencesKnown = false;
    if (deployment !== undefined && deploymentNames !== undefined && !deploymentNames.includes(deployment)) {
      problems.push({
        path: ["variants", key, "deployment"],
        message: `unknown deployment "${deployment}"${didYouMean(deployment, deploymentNames)} (${knownList(deploymentNames)})`,
      });
    }
    const written = field(variant, "role");
    const role = written === undefined ? defaultVariantRole(key) : oneOfAt(variant, "role", variantRoles);
    if (role === undefined) rolesKnown = false;
    else roles.set(key, role);
  }

  // Counting roles only makes sense when every variant's role is known; a broken entry is already
  // reported by the schema and would otherwise also show up as a missing control.
  if (rolesKnown) {
    const controls = [...roles].filter(([, role]) => role === "control").map(([key]) => key);
    const treatments = [...roles].filter(([, role]) => role === "treatment").map(([key]) => key);
    if (controls.length === 0) {
      problems.push({
        path: ["variants"],
        message:
          'needs exactly one control variant, found none: name one variant "control" or give it role: control',
      });
    } else if (controls.length > 1) {
      problems.push({
        path: ["variants"],
        message: `needs exactly one control variant, found ${controls.length} (${controls.join(", ")}): give all but one role: treatment`,
      });
    }
    if (treatments.length === 0) {
      problems.push({
        path: ["variants"],
        message:
          "needs at least one treatment variant: add a variant not named control (or give one role: treatment)",
      });
    }
  }

  // A variant pointing at a misspelt deployment already explains why the real one looks unused.
  if (deploymentsRecord !== undefined && referencesKnown) {
    problems.push(...unusedDeployments(variants, deploymentsRecord));
  }
  return problems;
}

/** A deployment no variant uses still holds GPUs. */
function unusedDeployments(variants: [string, Draft][], deployments: Draft): DraftProblem[] {
  const used = new Set(variants.map(([, variant]) => stringAt(variant, "deployment")));
  return Object.keys(deployments)
    .filter((name) => !used.has(name))
    .map((name) => ({
      path: ["deployments", name],
      message:
        "is not used by any variant (it would hold GPUs for nothing): remove it or point a variant at it",
    }));
}

function rolloutProblems(spec: Draft): DraftProblem[] {
  const rollout = draftAt(spec, "rollout");
  const mode = oneOfAt(rollout, "mode", rolloutModes);
  const treatmentPercent = numberAt(rollout, "treatmentPercent");
  const mirrorPercent = numberAt(rollout, "mirrorPercent");
  const problems: DraftProblem[] = [...banditProblems(spec, mode)];
  if (mode === "shadow" && treatmentPercent !== undefined && treatmentPercent > 0) {
    problems.push({
      path: ["rollout", "treatmentPercent"],
      message: `must be 0 in shadow mode, got ${treatmentPercent}: shadow mirrors requests and users only see control; use mode canary or ab to show the treatment to users`,
    });
  }
  if (mode !== undefined && mode !== "shadow" && mirrorPercent !== undefined && mirrorPercent > 0) {
    problems.push({
      path: ["rollout", "mirrorPercent"],
      message: `only shadow mode mirrors requests, got ${mirrorPercent} in mode ${mode}: remove mirrorPercent or use mode shadow`,
    });
  }
  return problems;
}

/** A number field, its default when absent, or undefined when it holds something else. */
function numberOr(draft: Draft | undefined, key: string, fallback: number | undefined): number | undefined {
  return field(draft, key) === undefined ? fallback : numberAt(draft, key);
}

function deploymentProblems(spec: Draft): DraftProblem[] {
  const problems: DraftProblem[] = [];
  for (const [name, deployment] of entriesAt(spec, "deployments")) {
    const replicas = draftAt(deployment, "replicas");
    if (replicas !== undefined) {
      const min = numberOr(replicas, "min", 1);
      const max = numberOr(replicas, "max", min);
      const warmPool = numberOr(replicas, "warmPool", 0);
      if (min !== undefined && max !== undefined && max < min) {
        problems.push({
          path: ["deployments", name, "replicas", "max"],
          message: `must be at least replicas.min (${min}), got ${max}`,
        });
      }
      if (warmPool !== undefined && max !== undefined && warmPool > max) {
        problems.push({
          path: ["deployments", name, "replicas", "warmPool"],
          message: `must be at most replicas.max (${max}), got ${warmPool}: warm nodes beyond the replica ceiling would never serve`,
        });
      }
    }
    const args = stringsAt(deployment, "vllmArgs") ?? [];
    args.forEach((arg, index) => {
      const flag = arg.split("=")[0] ?? arg;
      if (!Object.hasOwn(managedVllmFlags, flag)) return;
      const owner = managedVllmFlags[flag] ?? "";
      const fix = owner.startsWith("(") ? "remove it" : `set deployments.${name}.${owner} instead`;
      problems.push({
        path: ["deployments", name, "vllmArgs", index],
        message: `${flag} is set by the stack itself: ${fix}`,
      });
    });
    const endpoints = stringsAt(deployment, "endpoints") ?? [];
    endpoints.forEach((endpoint, index) => {
      const first = endpoints.indexOf(endpoint);
      if (first < index) {
        problems.push({
          path: ["deployments", name, "endpoints", index],
          message: `repeats endpoints[${first}] ${describeValue(endpoint)}: list each replica once`,
        });
      }
    });
  }
  return problems;
}

function analysisProblems(spec: Draft): DraftProblem[] {
  const looks = numbersAt(draftAt(draftAt(spec, "analysis"), "sequential"), "looks");
  if (looks === undefined || looks.length === 0) return [];
  const problems: DraftProblem[] = [];
  const path = ["analysis", "sequential", "looks"];
  looks.forEach((look, index) => {
    const previous = looks[index - 1];
    if (previous !== undefined && look <= previous) {
      problems.push({
        path: [...path, index],
        message: `must be greater than the look before it (${previous}), got ${look}: looks are strictly increasing fractions of the planned sample`,
      });
    }
  });
  const last = looks.at(-1);
  if (last !== undefined && last !== 1) {
    problems.push({
      path: [...path, looks.length - 1],
      message: `the last look must be 1 (the full planned sample), got ${last}`,
    });
  }
  return problems;
}

function windowProblems(
  timing: Draft | undefined,
  path: string[],
  defaults: [string, string],
): DraftProblem[] {
  if (timing === undefined) return [];
  const interval =
    field(timing, "evaluationInterval") === undefined ? defaults[0] : stringAt(timing, "evaluationInterval");
  const window = field(timing, "window") === undefined ? defaults[1] : stringAt(timing, "window");
  if (interval === undefined || window === undefined) return [];
  if (durationSeconds(window) < durationSeconds(interval)) {
    return [
      {
        path: [...path, "window"],
        message: `must be at least evaluationInterval (${interval}), got "${window}": a shorter window leaves time between evaluations unobserved`,
      },
    ];
  }
  return [];
}

function runtimeProblems(spec: Draft): DraftProblem[] {
  const monitoring = draftAt(spec, "monitoring");
  const problems = [
    ...windowProblems(monitoring, ["monitoring"], ["1m", "5m"]),
    ...windowProblems(draftAt(monitoring, "local"), ["monitoring", "local"], ["2s", "10s"]),
  ];
  const router = draftAt(spec, "router");
  if (router !== undefined) {
    const store = field(router, "store") === undefined ? "memory" : stringAt(router, "store");
    const hasUrl = field(router, "redisUrl") !== undefined;
    if (store === "memory" && hasUrl) {
      problems.push({
        path: ["router", "redisUrl"],
        message: "is only used with store: redis; remove it or set router.store to redis",
      });
    }
    if (store === "redis" && !hasUrl) {
      problems.push({
        path: ["router", "redisUrl"],
        message: "is required when router.store is redis (e.g. redis://redis:6379/0)",
      });
    }
  }
  return problems;
}
