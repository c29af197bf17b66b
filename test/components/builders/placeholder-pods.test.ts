import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import { describe, expect, it } from "vitest";
import {
  PLACEHOLDER_PRIORITY,
  placeholderDeployment,
  placeholderPriorityClass,
  SERVING_PRIORITY,
  servingPriorityClass,
} from "../../../components/builders/placeholder-pods.ts";
import { replicaResources } from "../../../components/builders/vllm-container.ts";
import { validateK8sObject } from "../../helpers/k8s-validate.ts";
import { chat8b, chat70b } from "../inference-fixtures.ts";

const placeholder = (d = chat70b) =>
  placeholderDeployment("swap", "chat-70b", d, "llm-ab") as unknown as IDeployment;

describe("placeholder pods", () => {
  it("sit below the serving pods' priority and below the default 0", () => {
    expect(PLACEHOLDER_PRIORITY).toBeLessThan(0);
    expect(placeholderPriorityClass("swap", "chat-70b").value).toBeLessThan(
      servingPriorityClass("swap", "chat-70b").value as number,
    );
    expect(SERVING_PRIORITY).toBeGreaterThan(PLACEHOLDER_PRIORITY);
  });

  it("never preempt anything themselves", () => {
    expect(placeholderPriorityClass("swap", "chat-70b").preemptionPolicy).toBe("Never");
  });

  it("number one per warm node, each on its own node", () => {
    const spec = placeholder().spec!;
    expect(spec.replicas).toBe(chat70b.replicas.warmPool);
    const anti =
      spec.template.spec!.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution!;
    expect(anti[0]!.topologyKey).toBe("kubernetes.io/hostname");
  });

  it("reserve one replica's GPUs on the deployment's GPU nodes and pull its image", () => {
    const pod = placeholder().spec!.template.spec!;
    expect(pod.containers[0]!.resources).toEqual(replicaResources(chat70b));
    expect(pod.containers[0]!.image).toBe(chat70b.image);
    expect(pod.nodeSelector).toEqual({ "llm-ab/gpu-type": "nvidia-l40s" });
    expect(pod.tolerations?.map((t) => t.key)).toEqual(["nvidia.com/gpu"]);
  });

  it("carry no serving label, so Services and the PDB never select them", () => {
    const labels = placeholder().spec!.template.metadata!.labels!;
    expect(labels["app.kubernetes.io/component"]).toBe("warm-placeholder");
  });

  it("are not created when the spec asks for no warm pool", () => {
    const cold = { ...chat8b, replicas: { ...chat8b.replicas, warmPool: 0 } };
    expect(placeholderDeployment("p", "chat-8b", cold, "llm-ab")).toBeUndefined();
  });

  it("validate against the Kubernetes schemas, with both priority classes", () => {
    validateK8sObject(placeholder());
    validateK8sObject(placeholderPriorityClass("swap", "chat-70b"));
    validateK8sObject(servingPriorityClass("swap", "chat-70b"));
  });
});
