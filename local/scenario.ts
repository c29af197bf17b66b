import { dirname, resolve } from "node:path";
import { outcomeFields } from "../router/outcomes.ts";
import { formatPath, SpecError, type SpecProblem } from "../spec/errors.ts";
import { loadSpecFile, loadYamlFile } from "../spec/load.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { type Scenario, scenarioSchema } from "./scenario-schema.ts";

/** A scenario with the spec it runs. */
export interface LoadedScenario {
  readonly path: string;
  readonly scenario: Scenario;
  /** Absolute path of the experiment spec. */
  readonly specPath: string;
  readonly spec: ExperimentSpec;
}

/** Problems of a valid scenario against its spec. */
export function crossCheck(scenario: Scenario, spec: ExperimentSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const known = Object.keys(spec.deployments);
  for (const name of Object.keys(scenario.deployments)) {
    if (!known.includes(name)) {
      problems.push({
        path: formatPath(["deployments", name]),
        message: `the spec has no deployment "${name}" (it has: ${known.join(", ")})`,
      });
    }
  }
  const fields = outcomeFields(spec);
  for (const variant of Object.keys(spec.variants)) {
    const draws = scenario.outcomes[variant];
    if (draws === undefined) {
      problems.push({ path: "outcomes", message: `no outcomes for variant "${variant}" of the spec` });
      continue;
    }
    for (const [field, kind] of fields) {
      const draw = draws[field];
      if (draw === undefined) {
        problems.push({
          path: formatPath(["outcomes", variant]),
          message: `no distribution for the spec's outcome "${field}"`,
        });
      } else if (kind === "binary" && !("probability" in draw)) {
        problems.push({
          path: formatPath(["outcomes", variant, field]),
          message: `"${field}" is a binary metric: give { probability }`,
        });
      }
    }
    for (const field of Object.keys(draws)) {
      if (!fields.has(field)) {
        problems.push({
          path: formatPath(["outcomes", variant, field]),
          message: `the spec declares no outcome "${field}" (it has: ${[...fields.keys()].join(", ")})`,
        });
      }
    }
  }
  for (const variant of Object.keys(scenario.outcomes)) {
    if (!(variant in spec.variants)) {
      problems.push({
        path: formatPath(["outcomes", variant]),
        message: `the spec has no variant "${variant}" (it has: ${Object.keys(spec.variants).join(", ")})`,
      });
    }
  }
  if (spec.rollout.mode !== "ab") {
    problems.push({
      path: "spec",
      message: `the demo runs A/B experiments; the spec's rollout.mode is ${spec.rollout.mode}`,
    });
  }
  if (Object.keys(spec.variants).length !== 2) {
    problems.push({ path: "spec", message: "the demo runs one control and one treatment" });
  }
  return problems;
}

/** Reads, validates and cross-checks a scenario file; throws a SpecError naming the file. */
export async function loadScenario(path: string): Promise<LoadedScenario> {
  const scenario = await loadYamlFile(path, scenarioSchema);
  const specPath = resolve(dirname(path), scenario.spec);
  const spec = await loadSpecFile(specPath);
  const crossProblems = crossCheck(scenario, spec);
  if (crossProblems.length > 0) throw new SpecError(crossProblems, path);
  return { path, scenario, specPath, spec };
}
