import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { GATE_FILE_VERSION, type GateFile } from "../../arena/gate-file.ts";
import { renderStackObjects, runStackUnderMocks } from "../../cli/render.ts";
import { parseSpec, specHash } from "../../spec/load.ts";
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

  describe("with spec.gate.required", () => {
    const gated = { ...spec, gate: { required: true } };
    const gateFile = (overrides: Partial<GateFile>): GateFile => ({
      version: GATE_FILE_VERSION,
      experiment: gated.name,
      specHash: specHash(parseSpec(gated)),
      datasetHash: "a".repeat(64),
      rubricHash: "b".repeat(64),
      judge: { endpoint: "http://judge", model: "j", temperature: 0, seed: 7, promptVersion: "v1" },
      createdAt: "2026-11-27T00:00:00Z",
      passed: true,
      checks: [{ name: "win rate", passed: true, value: "0.61", threshold: "≥ 0.5", detail: "" }],
      results: {},
      ...overrides,
    });
    async function withGate(config: Record<string, unknown>, gate?: GateFile): Promise<string> {
      const dir = await projectWith({ "llm-ab:spec": gated, ...config });
      if (gate !== undefined) await writeFile(join(dir, "gate.json"), JSON.stringify(gate));
      return dir;
    }

    it("refuses exposure without a gate file, saying how to make one", async () => {
      const message = await failure(await withGate({}));
      expect(message).toContain("gateFile");
      expect(message).toContain("no offline gate result was supplied");
      expect(message).toContain("llm-ab arena run");
    });

    it("refuses a failing gate for this spec, naming the failed checks", async () => {
      const failed = gateFile({
        passed: false,
        checks: [
          { name: "win rate lower bound", passed: false, value: "0.42", threshold: "≥ 0.5", detail: "" },
        ],
      });
      const message = await failure(await withGate({ "llm-ab:gateFile": "gate.json" }, failed));
      expect(message).toContain(
        "the offline gate failed for this spec: win rate lower bound (0.42, needs ≥ 0.5)",
      );
    });

    it("refuses a passing gate made for another version of the spec", async () => {
      const stale = gateFile({ specHash: "c".repeat(64) });
      const message = await failure(await withGate({ "llm-ab:gateFile": "gate.json" }, stale));
      expect(message).toContain("was made for another version of the spec");
    });

    it("refuses a gate file that is not one, naming the field", async () => {
      const dir = await withGate({ "llm-ab:gateFile": "gate.json" });
      await writeFile(join(dir, "gate.json"), JSON.stringify({ version: 1, passed: "yes" }));
      expect(await failure(dir)).toMatch(/gate\.json: not an llm-ab gate file: .*passed/);
    });

    it("deploys with a passing gate for this spec", async () => {
      const objects = await renderStackObjects(
        "t",
        await withGate({ "llm-ab:gateFile": "gate.json" }, gateFile({})),
      );
      expect(objects.some((o) => o.kind === "Deployment")).toBe(true);
    });

    it("deploys in shadow mode without a gate: shadowing exposes no user", async () => {
      const dir = await projectWith({
        "llm-ab:spec": { ...gated, rollout: { mode: "shadow", mirrorPercent: 10 } },
      });
      expect((await renderStackObjects("t", dir)).length).toBeGreaterThan(0);
    });
  });
});
