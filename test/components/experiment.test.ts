import { beforeEach, describe, expect, it } from "vitest";
import { inputPropertyError, promisify, settle, setupPulumiMocks } from "../helpers/pulumi.ts";

const recorder = await setupPulumiMocks();
const k8s = await import("@pulumi/kubernetes");
const { Experiment, checkGuardrails } = await import("../../components/experiment.ts");
const { loadSpecFile } = await import("../../spec/load.ts");
const { validateK8sObject } = await import("../helpers/k8s-validate.ts");

const spec = await loadSpecFile("examples/support-bot-policy-prompt.yaml");

beforeEach(() => recorder.clear());

describe("Experiment", () => {
  it("composes inference, router and monitoring from one spec, every object valid", async () => {
    const experiment = new Experiment("e", { spec, namespace: "exp" });
    await settle();
    const kinds = new Set(recorder.k8sObjects().map((o) => o.kind));
    for (const kind of ["Deployment", "ScaledObject", "PodMonitor", "PrometheusRule", "AlertmanagerConfig"]) {
      expect(kinds).toContain(kind);
    }
    for (const object of recorder.k8sObjects()) validateK8sObject(object);
    expect(await promisify(experiment.routerAddress)).toBe(
      "http://support-bot-policy-prompt-router.exp.svc.cluster.local:8080",
    );
    expect(await promisify(experiment.dashboardUid)).toMatch(/\S/);
    expect((await promisify(experiment.ruleNames)).length).toBeGreaterThan(0);
  });

  it("outputs the sample-size plan of the primary metric", async () => {
    const experiment = new Experiment("e", { spec });
    const [plan] = await promisify(experiment.plan);
    expect(plan?.metric).toBe("resolution_rate");
    expect(plan?.perArm).toBeGreaterThan(0);
  });

  it("creates the GPU node group with its warm pool when asked", async () => {
    new Experiment("e", {
      spec,
      gpuNodePool: { clusterName: "c", subnetIds: ["s"], instanceTypes: ["g6.xlarge"] },
    });
    await settle();
    const [nodeGroup] = recorder.ofType("aws:eks/nodeGroup:NodeGroup");
    expect(nodeGroup?.inputs.warmPoolConfig).toMatchObject({ minSize: 1 });
  });

  it("hands out the transformation that injects the router into the application's Deployment", async () => {
    const experiment = new Experiment("e", {
      spec,
      router: { placement: { kind: "sidecar", deployment: "support-app", podSelector: { app: "support" } } },
    });
    const transformation = experiment.sidecarTransformation;
    if (transformation === undefined) throw new Error("a sidecar placement gives a transformation");
    new k8s.apps.v1.Deployment(
      "support-app",
      {
        spec: {
          selector: { matchLabels: { app: "support" } },
          template: {
            metadata: { labels: { app: "support" } },
            spec: { containers: [{ name: "app", image: "a:1" }] },
          },
        },
      },
      { transformations: [transformation] },
    );
    await settle();
    const app = recorder.get("kubernetes:apps/v1:Deployment", "support-app").inputs;
    const containers = (app.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec
      .containers;
    expect(containers.map((c) => c.name)).toEqual(["app", "llm-ab-router"]);
    expect(recorder.ofType("kubernetes:apps/v1:Deployment").map((d) => d.name)).not.toContain(
      "e-router-deployment",
    );
  });

  it("fails the preview naming deployments.<name>.gpus when a replica cannot fit the instance type", () => {
    const big = { ...spec, deployments: { "chat-8b": { ...spec.deployments["chat-8b"]!, gpus: 4 } } };
    expect(
      inputPropertyError(() => new Experiment("e", { spec: big, nodeInstanceTypes: ["g6.xlarge"] })),
    ).toMatchObject({ propertyPath: "deployments.chat-8b.gpus" });
  });
});

describe("checkGuardrails", () => {
  const none = { ...spec.metrics, guardrails: [] };

  it.each([
    ["ab", 10],
    ["canary", 5],
  ] as const)("rejects a live %s rollout without guardrails, naming metrics.guardrails", (mode, percent) => {
    const live = { rollout: { mode, treatmentPercent: percent, mirrorPercent: 0 }, metrics: none };
    expect(inputPropertyError(() => checkGuardrails(live)).propertyPath).toBe("metrics.guardrails");
  });

  it.each([
    ["a shadow rollout", { mode: "shadow", treatmentPercent: 0, mirrorPercent: 100 }],
    ["a rollout at 0%", { mode: "ab", treatmentPercent: 0, mirrorPercent: 0 }],
  ] as const)("accepts %s without guardrails", (_case, rollout) => {
    expect(() => checkGuardrails({ rollout, metrics: none })).not.toThrow();
  });
});
