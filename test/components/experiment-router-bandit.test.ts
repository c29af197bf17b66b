import type * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { inputPropertyError, settle, setupPulumiMocks } from "../helpers/pulumi.ts";

const recorder = await setupPulumiMocks();
const k8s = await import("@pulumi/kubernetes");
const { ExperimentRouter } = await import("../../components/experiment-router.ts");
const { Experiment, routerPlacement } = await import("../../components/experiment.ts");
const { banditStoreProblem } = await import("../../components/builders/router-replicas.ts");
const { ROUTER_CONTAINER, specConfigMapData } = await import("../../components/builders/router-container.ts");
const { loadSpecFile, parseSpec } = await import("../../spec/load.ts");
const { validateK8sObject } = await import("../helpers/k8s-validate.ts");

/** The bandit example as written: four arms, the bandit and the assignments shared through Redis. */
const shared = await loadSpecFile("examples/support-bot-prompt-bandit.yaml");
/** The same bandit kept in each router's memory. */
const inMemory = { ...shared, router: { ...shared.router, store: "memory" as const, redisUrl: undefined } };
const abSpec = await loadSpecFile("examples/support-bot-policy-prompt.yaml");

beforeEach(() => recorder.clear());

describe("banditStoreProblem", () => {
  const processes = { count: 2, field: "router.placement.replicas", unit: "router replica" };

  it.each([
    ["one router process", inMemory, { ...processes, count: 1 }],
    ["routers that share the bandit through Redis", shared, processes],
    ["several routers without a bandit (the assignment rule is separate)", abSpec, processes],
  ])("finds nothing wrong with %s", (_case, spec, given) => {
    expect(banditStoreProblem(spec, given)).toBeUndefined();
  });

  it("names the count's field, the spec's mode and store, and both ways out", () => {
    const problem = banditStoreProblem(inMemory, processes);
    expect(problem?.propertyPath).toBe("router.placement.replicas");
    expect(problem?.reason).toMatch(/^must be 1 while the bandit runs on the memory store, got 2: /);
    for (const words of [
      "spec.rollout.mode is bandit",
      "spec.router.store is memory",
      "allocate differently",
      "Set spec.router.store: redis",
      "or run one router replica",
    ]) {
      expect(problem?.reason).toContain(words);
    }
  });
});

describe("the spec ConfigMap of a bandit", () => {
  it("holds a spec the router parses back to the same bandit (no derived seconds, no treatment percent)", () => {
    const document = JSON.parse(specConfigMapData(shared)["spec.json"] ?? "{}");
    expect(document.rollout).not.toHaveProperty("treatmentPercent");
    expect(document.rollout.bandit).not.toHaveProperty("rewardWindowSeconds");
    expect(parseSpec(document, "spec.json")).toEqual(shared);
  });
});

describe("the router placement of an Experiment", () => {
  it("refuses standalone replicas of a bandit on the memory store, naming router.placement.replicas", () => {
    const error = inputPropertyError(
      () =>
        new Experiment("e", {
          spec: inMemory,
          router: { placement: { kind: "standalone", replicas: 3 } },
        }),
    );
    expect(error.propertyPath).toBe("router.placement.replicas");
    expect(error.reason).toContain("got 3: spec.rollout.mode is bandit and spec.router.store is memory");
  });

  it("counts a standalone placement without replicas as the default 2", () => {
    const error = inputPropertyError(() => routerPlacement(inMemory, { kind: "standalone" }));
    expect(error.reason).toContain("got 2 (the default)");
  });

  it("runs one router for a bandit on the memory store when no placement is given", async () => {
    expect(routerPlacement(inMemory, undefined)).toEqual({ kind: "standalone", replicas: 1 });
    new Experiment("e", { spec: inMemory, namespace: "exp" });
    await settle();
    const router = recorder.get("kubernetes:apps/v1:Deployment", "e-router-deployment").inputs;
    expect((router.spec as { replicas: number }).replicas).toBe(1);
    for (const object of recorder.k8sObjects()) validateK8sObject(object);
  });

  it("also refuses it when the router component is used on its own, naming placement.replicas", () => {
    const error = inputPropertyError(
      () => new ExperimentRouter("r", { spec: inMemory, placement: { kind: "standalone", replicas: 2 } }),
    );
    expect(error.propertyPath).toBe("placement.replicas");
    expect(error.reason).toContain("spec.router.store is memory");
  });
});

describe("the router sidecar of a bandit on the memory store", () => {
  const placement = { kind: "sidecar" as const, deployment: "chat-app", podSelector: { app: "chat-app" } };

  function appDeployment(replicas: number | undefined, transformation: pulumi.ResourceTransformation) {
    return new k8s.apps.v1.Deployment(
      "chat-app",
      {
        metadata: { name: "chat-app", namespace: "exp" },
        spec: {
          ...(replicas === undefined ? {} : { replicas }),
          selector: { matchLabels: { app: "chat-app" } },
          template: {
            metadata: { labels: { app: "chat-app" } },
            spec: { containers: [{ name: "app", image: "chat:1.2.3" }] },
          },
        },
      },
      { transformations: [transformation] },
    );
  }

  function transformationOf(router: InstanceType<typeof ExperimentRouter>): pulumi.ResourceTransformation {
    const transformation = router.sidecarTransformation;
    if (transformation === undefined) throw new Error("a sidecar placement gives a transformation");
    return transformation;
  }

  it("refuses an application with several pods, each of which would run its own bandit", () => {
    const router = new ExperimentRouter("r", { spec: inMemory, namespace: "exp", placement });
    const error = inputPropertyError(() => appDeployment(3, transformationOf(router)));
    expect(error.propertyPath).toBe("spec.replicas");
    expect(error.reason).toContain(
      "got 3 (spec.replicas of Deployment chat-app, one router sidecar per pod): rollout.mode is bandit and router.store is memory",
    );
    expect(error.reason).toContain("or run one application pod");
  });

  it.each([
    ["one pod", inMemory, 1],
    ["no replica count (Kubernetes runs one pod)", inMemory, undefined],
    ["several pods sharing the bandit through Redis", shared, 3],
  ])("injects the router into an application with %s", async (_case, spec, replicas) => {
    const router = new ExperimentRouter("r", { spec, namespace: "exp", placement });
    appDeployment(replicas, transformationOf(router));
    await settle();
    const app = recorder.get("kubernetes:apps/v1:Deployment", "chat-app").inputs;
    const pod = (app.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec;
    expect(pod.containers.map((c) => c.name)).toEqual(["app", ROUTER_CONTAINER]);
  });
});
