import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { renderStackObjects, runStackUnderMocks } from "../../cli/render.ts";
import { validateK8sObject } from "../helpers/k8s-validate.ts";

const PROJECT = process.cwd();

/** A project directory holding one stack `t` with `config` (project-relative paths resolve there). */
async function projectWith(config: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "llm-ab-stack-"));
  await mkdir(join(dir, "stacks"));
  await writeFile(join(dir, "stacks", "Pulumi.t.yaml"), stringify({ config }));
  return dir;
}

/** The error a stack run fails with. */
async function failure(dir: string): Promise<string> {
  try {
    await renderStackObjects("t", dir);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the stack to fail");
}

describe.each(["dev", "aws"])("stack %s", (stack) => {
  it("emits only Kubernetes objects that validate against the official schemas", async () => {
    const objects = await renderStackObjects(stack, PROJECT);
    expect(objects.length).toBeGreaterThan(10);
    for (const object of objects) validateK8sObject(object);
  });
});

describe("the aws stack", () => {
  it("creates the GPU node group, tainted, with a warm pool", async () => {
    const resources = await runStackUnderMocks("aws", PROJECT);
    const nodeGroup = resources.find((r) => r.type === "aws:eks/nodeGroup:NodeGroup");
    expect(nodeGroup?.inputs.taints).toEqual([
      { effect: "NO_SCHEDULE", key: "nvidia.com/gpu", value: "true" },
    ]);
    expect(nodeGroup?.inputs.warmPoolConfig).toMatchObject({ reuseOnScaleIn: true });
  });
});

describe("the stack config", () => {
  const spec = {
    name: "inline-duel",
    hypothesis: "h",
    unit: "user",
    rollout: { mode: "ab", treatmentPercent: 50 },
    variants: { control: { deployment: "m" }, treatment: { deployment: "m", systemPrompt: "x" } },
    deployments: {
      m: { image: "vllm/vllm-openai:v0.11.0", model: "org/m", gpus: 1, replicas: { min: 1, max: 1 } },
    },
    metrics: {
      primary: [{ name: "win", kind: "binary", baseline: 0.5, mde: 0.05 }],
      guardrails: [{ name: "error_rate", max: 0.01 }],
    },
  };

  it("takes the spec inline, and redacts the secure admin token", async () => {
    const dir = await projectWith({
      "llm-ab:spec": spec,
      "llm-ab:adminToken": { secure: "v1:AAAA" },
      "llm-ab:router": { placement: { kind: "standalone", replicas: 1 } },
    });
    const objects = await renderStackObjects("t", dir);
    const secret = objects.find((o) => o.kind === "Secret");
    expect(secret?.stringData).toEqual({ token: "<secret>" });
    for (const object of objects) validateK8sObject(object);
  });

  it("fails naming metrics.guardrails when a live treatment has none", async () => {
    const dir = await projectWith({
      "llm-ab:spec": { ...spec, metrics: { ...spec.metrics, guardrails: [] } },
    });
    expect(await failure(dir)).toContain("metrics.guardrails: must list at least one guardrail");
  });

  it("fails naming the spec field of a spec problem", async () => {
    const dir = await projectWith({ "llm-ab:spec": { ...spec, unit: "usr" } });
    expect(await failure(dir)).toMatch(/spec\.unit: must be one of/);
  });

  it("fails naming the deployment when its GPUs cannot fit the node pool's instance type", async () => {
    const deployments = { m: { ...spec.deployments.m, gpus: 2 } };
    const dir = await projectWith({
      "llm-ab:spec": { ...spec, deployments },
      "llm-ab:gpuNodePool": { clusterName: "c", subnetIds: ["s"], instanceTypes: ["g6.xlarge"] },
    });
    expect(await failure(dir)).toContain("deployments.m.gpus");
  });

  it("fails naming spec when the spec file is missing", async () => {
    const dir = await projectWith({ "llm-ab:spec": "nowhere.yaml" });
    expect(await failure(dir)).toMatch(/spec: cannot read nowhere\.yaml \(ENOENT\)/);
  });
});
