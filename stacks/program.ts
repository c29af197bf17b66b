/**
 * The Pulumi program of an experiment stack, as a function: `stacks/index.ts` runs it once under
 * `pulumi up`, `llm-ab render` runs it under mocks (once per render, hence a function and not
 * top-level code).
 *
 * Stack config (namespace `llm-ab`):
 * - `spec`: the experiment spec, inline (an object) or a path to a YAML/JSON file (relative to the
 *   project directory);
 * - `namespace` (default "llm-ab"), `createNamespace` (default false);
 * - `kubeconfig`: a kubeconfig path or contents for an existing cluster (default: the ambient one);
 * - `adminToken` (secret): the router's admin token; absent, the Secret must exist already;
 * - `router`: `{ placement, image, redis }` of `ExperimentRouter`;
 * - `gpuNodePool`: `GpuNodePool` arguments (`clusterName`, `subnetIds`, `instanceTypes`, `warmPool`…);
 *   absent, the cluster's GPU nodes are used as they are;
 * - `nodeInstanceTypes`: instance types of existing GPU nodes, for the fit check;
 * - `pod`, `scaling`: vLLM pod sizing and the autoscaler (`{ keda: false }` for an HPA);
 * - `monitoring`: `{ profile, dashboardFolder, webhookUrl }`; `monitoringLabels`: extra labels;
 * - `gateFile`: the `gate.json` of `llm-ab arena run` (project-relative path). A spec with
 *   `gate.required` exposes no user to a treatment without a passing gate for this very spec:
 *   preview and up fail, saying why (shadow mode, which exposes no one, is allowed).
 */
import { readFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { exposureBlock, type GateFile, readGateFile } from "../arena/gate-file.ts";
import { Experiment, type ExperimentArgs, type PlanSummary } from "../components/experiment.ts";
import { SpecError } from "../spec/errors.ts";
import { parseSpec } from "../spec/load.ts";
import type { ExperimentSpec } from "../spec/schema.ts";

/** What the stack exports. */
export interface StackOutputs {
  readonly routerAddress: pulumi.Output<string>;
  readonly dashboardUid: pulumi.Output<string>;
  readonly ruleNames: pulumi.Output<string[]>;
  readonly plan: pulumi.Output<PlanSummary[]>;
}

/** The raw `spec` config value: a JSON object (inline) or a file path. */
async function specValue(raw: string, baseDir: string): Promise<{ value: unknown; source: string }> {
  const trimmed = raw.trim();
  if (trimmed.startsWith("{")) return { value: JSON.parse(trimmed), source: "stack config llm-ab:spec" };
  const path = resolve(baseDir, trimmed);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new pulumi.InputPropertyError({ propertyPath: "spec", reason: `cannot read ${trimmed} (${code})` });
  }
  const value: unknown = extname(path) === ".json" ? JSON.parse(text) : parseYaml(text);
  return { value, source: trimmed };
}

/** The parsed spec, or an InputPropertyError (InputPropertiesError for several) naming each field. */
export async function loadStackSpec(config: pulumi.Config, baseDir: string): Promise<ExperimentSpec> {
  const { value, source } = await specValue(config.require("spec"), baseDir);
  try {
    return parseSpec(value, source);
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    const errors = error.problems.map((p) => ({ propertyPath: `spec.${p.path}`, reason: p.message }));
    const [only] = errors;
    if (errors.length === 1 && only !== undefined) throw new pulumi.InputPropertyError(only);
    throw new pulumi.InputPropertiesError({ message: error.message, errors });
  }
}

/** Refuses live exposure without a passing offline gate when the spec requires one (see the module comment). */
export async function enforceGate(
  spec: ExperimentSpec,
  gateFile: string | undefined,
  baseDir: string,
): Promise<void> {
  let gate: GateFile | undefined;
  if (gateFile !== undefined) {
    try {
      gate = await readGateFile(resolve(baseDir, gateFile));
    } catch (error) {
      throw new pulumi.InputPropertyError({ propertyPath: "gateFile", reason: (error as Error).message });
    }
  }
  const block = exposureBlock(spec, gate, gateFile);
  if (block !== undefined) throw new pulumi.InputPropertyError({ propertyPath: "gateFile", reason: block });
}

/** Runs the program: reads the stack config, creates the `Experiment`, returns the stack outputs. */
export async function runProgram(baseDir = process.cwd()): Promise<StackOutputs> {
  const config = new pulumi.Config("llm-ab");
  const spec = await loadStackSpec(config, baseDir);
  await enforceGate(spec, config.get("gateFile"), baseDir);
  const kubeconfig = config.get("kubeconfig");
  const provider = kubeconfig === undefined ? undefined : new k8s.Provider("kubernetes", { kubeconfig });
  const adminToken = config.getSecret("adminToken");
  const args: ExperimentArgs = {
    spec,
    ...optional("namespace", config.get("namespace")),
    ...optional("createNamespace", config.getBoolean("createNamespace")),
    ...optional("router", config.getObject<ExperimentArgs["router"]>("router")),
    ...optional("gpuNodePool", config.getObject<ExperimentArgs["gpuNodePool"]>("gpuNodePool")),
    ...optional("nodeInstanceTypes", config.getObject<string[]>("nodeInstanceTypes")),
    ...optional("pod", config.getObject<ExperimentArgs["pod"]>("pod")),
    ...optional("scaling", config.getObject<ExperimentArgs["scaling"]>("scaling")),
    ...optional("monitoring", config.getObject<ExperimentArgs["monitoring"]>("monitoring")),
    ...optional("monitoringLabels", config.getObject<Record<string, string>>("monitoringLabels")),
  };
  const withToken: ExperimentArgs =
    adminToken === undefined ? args : { ...args, router: { ...args.router, adminToken } };
  const experiment = new Experiment(
    spec.name,
    withToken,
    provider === undefined ? {} : { providers: { kubernetes: provider } },
  );
  return {
    routerAddress: experiment.routerAddress,
    dashboardUid: experiment.dashboardUid,
    ruleNames: experiment.ruleNames,
    plan: experiment.plan,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
