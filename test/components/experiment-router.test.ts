import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { inputPropertyError, promisify, settle, setupPulumiMocks } from "../helpers/pulumi.ts";

const recorder = await setupPulumiMocks();
const k8s = await import("@pulumi/kubernetes");
const { ExperimentRouter } = await import("../../components/experiment-router.ts");
const { SPEC_HASH_ANNOTATION, ROUTER_CONTAINER } = await import(
  "../../components/builders/router-container.ts"
);
const { loadSpecFile } = await import("../../spec/load.ts");
const { validateK8sObject } = await import("../helpers/k8s-validate.ts");

const promptSpec = await loadSpecFile("examples/support-bot-policy-prompt.yaml");
const redisSpec = await loadSpecFile("examples/model-swap-70b.yaml");
/** The object with Pulumi's secret wrappers (`{ <sig>: <secret sig>, value }`) replaced by their value. */
function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (pulumi.runtime.specialSigKey in record) return unwrapSecrets(record.value);
  return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, unwrapSecrets(item)]));
}

const TOKEN = "tok-5f1d9c0e-never-in-a-configmap";

interface PodTemplate {
  metadata: { annotations?: Record<string, string> };
  spec: {
    containers: { name: string; env?: { name: string; value?: string }[] }[];
    volumes?: { name: string }[];
  };
}

function template(inputs: Record<string, unknown>): PodTemplate {
  return (inputs.spec as { template: PodTemplate }).template;
}

beforeEach(() => recorder.clear());

describe("ExperimentRouter, standalone", () => {
  it("deploys the router, its Services, the spec ConfigMap, the token Secret and Redis, all valid", async () => {
    const router = new ExperimentRouter("r", {
      spec: redisSpec,
      namespace: "exp",
      adminToken: TOKEN,
      redis: "statefulset",
      placement: { kind: "standalone", replicas: 3 },
    });
    await settle();
    const kinds = recorder
      .k8sObjects()
      .map((o) => `${String(o.kind)} ${String((o.metadata as { name: string }).name)}`);
    expect(kinds.sort()).toEqual(
      [
        "ConfigMap support-bot-model-swap-70b-router-spec",
        "Deployment support-bot-model-swap-70b-router",
        "PodMonitor support-bot-model-swap-70b-router",
        "Secret support-bot-model-swap-70b-router-admin-token",
        "Service support-bot-model-swap-70b-redis",
        "Service support-bot-model-swap-70b-router",
        "Service support-bot-model-swap-70b-router-admin",
        "StatefulSet support-bot-model-swap-70b-redis",
      ].sort(),
    );
    for (const object of recorder.k8sObjects()) validateK8sObject(unwrapSecrets(object));
    expect(await promisify(router.address)).toBe(
      "http://support-bot-model-swap-70b-router.exp.svc.cluster.local:8080",
    );
  });

  it("rolls the pods through the spec ConfigMap's hash annotation", async () => {
    const router = new ExperimentRouter("r", {
      spec: promptSpec,
      placement: { kind: "standalone", replicas: 1 },
    });
    await settle();
    const deployment = recorder.get("kubernetes:apps/v1:Deployment", "r-deployment");
    expect(template(deployment.inputs).metadata.annotations?.[SPEC_HASH_ANNOTATION]).toBe(router.specHash);
  });

  it("points the router at the in-cluster Redis when it deploys one", async () => {
    new ExperimentRouter("r", { spec: redisSpec, namespace: "exp", redis: "statefulset" });
    await settle();
    const configMap = recorder.get("kubernetes:core/v1:ConfigMap", "r-spec");
    const text = (configMap.inputs.data as Record<string, string>)["spec.json"] ?? "";
    expect(JSON.parse(text).router.redisUrl).toBe(
      "redis://support-bot-model-swap-70b-redis.exp.svc.cluster.local:6379",
    );
  });

  it("keeps the admin token out of every ConfigMap and env value", async () => {
    new ExperimentRouter("r", { spec: redisSpec, adminToken: TOKEN });
    await settle();
    const configMaps = recorder.ofType("kubernetes:core/v1:ConfigMap");
    expect(JSON.stringify(configMaps)).not.toContain(TOKEN);
    const env = recorder
      .ofType("kubernetes:apps/v1:Deployment")
      .flatMap((d) => template(d.inputs).spec.containers.flatMap((c) => c.env ?? []));
    expect(env.length).toBeGreaterThan(0);
    expect(JSON.stringify(env)).not.toContain(TOKEN);
    expect(JSON.stringify(recorder.get("kubernetes:core/v1:Secret", "r-admin-token").inputs)).toContain(
      TOKEN,
    );
  });

  it.each([
    ["several replicas with the memory store", { spec: promptSpec }],
    [
      "an in-cluster Redis with the memory store",
      {
        spec: promptSpec,
        redis: "statefulset" as const,
        placement: { kind: "standalone" as const, replicas: 1 },
      },
    ],
  ])("rejects %s naming router.store", (_case, args) => {
    expect(inputPropertyError(() => new ExperimentRouter("bad", args)).propertyPath).toBe("router.store");
  });
});

describe("ExperimentRouter, sidecar", () => {
  function appDeployment(name: string, transformation: pulumi.ResourceTransformation) {
    return new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { name, namespace: "exp" },
        spec: {
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: "app", image: pulumi.output("chat:1.2.3") }] },
          },
        },
      },
      { transformations: [transformation] },
    );
  }

  it("is injected into the named Deployment only, with the hash annotation", async () => {
    const router = new ExperimentRouter("r", {
      spec: promptSpec,
      namespace: "exp",
      placement: { kind: "sidecar", deployment: "chat-app", podSelector: { app: "chat-app" } },
    });
    const transformation = router.sidecarTransformation;
    if (transformation === undefined) throw new Error("sidecar placement gives a transformation");
    appDeployment("chat-app", transformation);
    appDeployment("billing", transformation);
    await settle();

    const injected = template(recorder.get("kubernetes:apps/v1:Deployment", "chat-app").inputs);
    expect(injected.spec.containers.map((c) => c.name)).toEqual(["app", ROUTER_CONTAINER]);
    expect(injected.metadata.annotations?.[SPEC_HASH_ANNOTATION]).toBe(router.specHash);
    const untouched = template(recorder.get("kubernetes:apps/v1:Deployment", "billing").inputs);
    expect(untouched.spec.containers.map((c) => c.name)).toEqual(["app"]);

    const admin = recorder.get("kubernetes:core/v1:Service", "r-admin-service").inputs;
    expect((admin.spec as { selector: unknown }).selector).toEqual({ app: "chat-app" });
    const podMonitor = recorder.get("kubernetes:monitoring.coreos.com/v1:PodMonitor", "r-pod-monitor").inputs;
    expect(podMonitor.spec).toMatchObject({
      selector: { matchLabels: { app: "chat-app" } },
      podMetricsEndpoints: [{ port: "admin", path: "/metrics" }],
    });
    expect(
      recorder
        .ofType("kubernetes:apps/v1:Deployment")
        .map((d) => d.name)
        .sort(),
    ).toEqual(["billing", "chat-app"]);
    for (const object of recorder.k8sObjects()) validateK8sObject(unwrapSecrets(object));
    expect(await promisify(router.address)).toBe("http://127.0.0.1:8080");
  });
});
