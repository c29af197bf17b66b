import type { IScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IPriorityClass } from "kubernetes-models/scheduling.k8s.io/v1/PriorityClass";
import type { IService } from "kubernetes-models/v1/Service";
import { beforeEach, describe, expect, it } from "vitest";
import { validateK8sObject } from "../helpers/k8s-validate.ts";
import { inputPropertyError, promisify, settle, setupPulumiMocks } from "../helpers/pulumi.ts";
import { chat8b, chat70b, deployment } from "./inference-fixtures.ts";

const recorder = await setupPulumiMocks();
const { InferenceDeployment } = await import("../../components/inference-deployment.ts");

type Args = ConstructorParameters<typeof InferenceDeployment>[1];

async function build(args: Args) {
  const component = new InferenceDeployment("chat", args);
  await settle([component]);
  return component;
}

/** The inputs of a recorded Kubernetes resource, typed as the kubernetes-models interface. */
function k8s<T>(type: string, name: string): T {
  return recorder.get(type, name).inputs as T;
}

const servingPod = () =>
  k8s<IDeployment>("kubernetes:apps/v1:Deployment", "chat-deployment").spec!.template.spec!;

describe("InferenceDeployment", () => {
  beforeEach(() => recorder.clear());

  it("emits only objects that validate against the Kubernetes, prometheus-operator and KEDA schemas", async () => {
    await build({ deployment: chat8b, deploymentName: "chat-8b", experiment: "policy-prompt" });
    const objects = recorder.k8sObjects();
    expect(objects.map((o) => `${o.apiVersion}/${o.kind}`).sort()).toEqual([
      "apps/v1/Deployment",
      "apps/v1/Deployment",
      "keda.sh/v1alpha1/ScaledObject",
      "monitoring.coreos.com/v1/PodMonitor",
      "policy/v1/PodDisruptionBudget",
      "scheduling.k8s.io/v1/PriorityClass",
      "scheduling.k8s.io/v1/PriorityClass",
      "v1/Service",
      "v1/Service",
    ]);
    for (const object of objects) validateK8sObject(object);
  });

  it("gives the vLLM container the spec's GPUs as limits and tolerates the GPU taint", async () => {
    await build({ deployment: chat70b, deploymentName: "chat-70b", experiment: "swap" });
    const pod = servingPod();
    expect(pod.containers[0]!.resources!.limits!["nvidia.com/gpu"]).toBe("2");
    expect(pod.tolerations).toEqual([
      { effect: "NoSchedule", key: "nvidia.com/gpu", operator: "Equal", value: "true" },
    ]);
    expect(pod.nodeSelector).toEqual({ "llm-ab/gpu-type": "nvidia-l40s" });
    expect(pod.containers[0]!.image).toBe(chat70b.image);
  });

  it("names the headless Service the way the router's replica DNS template expects", async () => {
    const component = await build({
      deployment: chat8b,
      deploymentName: "chat-8b",
      experiment: "policy-prompt",
      namespace: "exp",
    });
    expect(await promisify(component.replicaDns)).toBe("policy-prompt-chat-8b.exp.svc.cluster.local:8000");
    const headless = k8s<IService>("kubernetes:core/v1:Service", "chat-headless");
    expect(headless.metadata!.name).toBe("policy-prompt-chat-8b");
    expect(headless.spec!.clusterIP).toBe("None");
    expect(k8s<IService>("kubernetes:core/v1:Service", "chat-service").spec!.type).toBe("ClusterIP");
  });

  it("scales with a KEDA ScaledObject on vllm:num_requests_waiting between the spec's min and max", async () => {
    await build({ deployment: chat8b, deploymentName: "chat-8b", experiment: "policy-prompt" });
    const scaled = k8s<IScaledObject>("kubernetes:keda.sh/v1alpha1:ScaledObject", "chat-scaled-object").spec;
    expect(scaled.minReplicaCount).toBe(2);
    expect(scaled.maxReplicaCount).toBe(6);
    expect(scaled.scaleTargetRef.name).toBe("policy-prompt-chat-8b");
    expect(scaled.triggers[0]!.type).toBe("prometheus");
    expect(scaled.triggers[0]!.metadata.query).toContain("vllm:num_requests_waiting");
  });

  it("falls back to an HPA with the same bounds when KEDA is off", async () => {
    await build({ deployment: chat8b, deploymentName: "chat-8b", experiment: "p", scaling: { keda: false } });
    expect(recorder.ofType("kubernetes:keda.sh/v1alpha1:ScaledObject")).toEqual([]);
    const hpa = k8s<IHorizontalPodAutoscaler>(
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
      "chat-hpa",
    );
    expect(hpa.spec).toMatchObject({ maxReplicas: 6, minReplicas: 2 });
    for (const object of recorder.k8sObjects()) validateK8sObject(object);
  });

  it("creates no autoscaler and no placeholders when min equals max and warmPool is 0", async () => {
    const fixed = deployment({ image: "vllm/vllm-openai:v0.11.0", model: "m", replicas: { min: 2 } });
    await build({ deployment: fixed, deploymentName: "fixed", experiment: "p" });
    const names = recorder.resources.map((r) => `${r.type} ${r.name}`);
    expect(names.filter((n) => /ScaledObject|HorizontalPodAutoscaler|placeholder/.test(n))).toEqual([]);
    expect(k8s<IDeployment>("kubernetes:apps/v1:Deployment", "chat-deployment").spec!.replicas).toBe(2);
  });

  it("runs placeholder pods below the serving pods' priority, one per warm node", async () => {
    await build({ deployment: chat8b, deploymentName: "chat-8b", experiment: "p" });
    const servingClass = k8s<IPriorityClass>(
      "kubernetes:scheduling.k8s.io/v1:PriorityClass",
      "chat-serving-priority",
    );
    const placeholderClass = k8s<IPriorityClass>(
      "kubernetes:scheduling.k8s.io/v1:PriorityClass",
      "chat-placeholder-priority",
    );
    expect(placeholderClass.value).toBeLessThan(servingClass.value!);
    const placeholder = k8s<IDeployment>("kubernetes:apps/v1:Deployment", "chat-placeholder").spec!;
    expect(servingPod().priorityClassName).toBe(servingClass.metadata!.name);
    expect(placeholder.template.spec!.priorityClassName).toBe(placeholderClass.metadata!.name);
    expect(placeholder.replicas).toBe(chat8b.replicas.warmPool);
  });

  it("limits voluntary disruption to one serving pod with a PodDisruptionBudget", async () => {
    await build({ deployment: chat8b, deploymentName: "chat-8b", experiment: "p" });
    const pdb = k8s<IPodDisruptionBudget>("kubernetes:policy/v1:PodDisruptionBudget", "chat-pdb").spec!;
    expect(pdb.maxUnavailable).toBe(1);
    expect(pdb.selector!.matchLabels).toEqual(
      k8s<IService>("kubernetes:core/v1:Service", "chat-headless").spec!.selector as Record<string, string>,
    );
  });

  it("rejects an instance type with fewer GPUs than a replica needs, naming deployments.<name>.gpus", () => {
    const error = inputPropertyError(
      () =>
        new InferenceDeployment("chat", {
          deployment: chat70b,
          deploymentName: "chat-70b",
          experiment: "swap",
          nodeInstanceTypes: ["g6e.xlarge"],
        }),
    );
    expect(error).toMatchObject({
      propertyPath: "deployments.chat-70b.gpus",
      reason: expect.stringContaining("g6e.xlarge has 1"),
    });
  });

  it("rejects experiment and deployment names too long for a Service name", () => {
    const error = inputPropertyError(
      () =>
        new InferenceDeployment("long", {
          deployment: chat8b,
          deploymentName: "d".repeat(40),
          experiment: "e".repeat(30),
        }),
    );
    expect(error.propertyPath).toBe(`deployments.${"d".repeat(40)}`);
  });
});
