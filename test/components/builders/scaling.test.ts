import type { IScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { describe, expect, it } from "vitest";
import {
  autoscales,
  horizontalPodAutoscaler,
  podDisruptionBudget,
  queueQuery,
  scaledObject,
} from "../../../components/builders/scaling.ts";
import { validateK8sObject } from "../../helpers/k8s-validate.ts";
import { inputPropertyError } from "../../helpers/pulumi.ts";
import { chat8b } from "../inference-fixtures.ts";

const replicas = (min: number, max: number) => ({ replicas: { max, min, warmPool: 0 } });

describe("scaledObject", () => {
  const scaled = scaledObject("p", "chat-8b", chat8b, "exp", {
    prometheusUrl: "http://prom:9090",
    queuePerReplica: 3,
  }) as unknown as IScaledObject;

  it("triggers on the vLLM waiting-request queue of this deployment's pods", () => {
    expect(scaled.spec.triggers).toEqual([
      {
        metadata: {
          query:
            'sum(vllm:num_requests_waiting{namespace="exp",llm_ab_experiment="p",llm_ab_deployment="chat-8b"})',
          serverAddress: "http://prom:9090",
          threshold: "3",
        },
        metricType: "AverageValue",
        type: "prometheus",
      },
    ]);
  });

  it("takes its bounds from the spec and targets the serving Deployment", () => {
    expect(scaled.spec).toMatchObject({
      maxReplicaCount: 6,
      minReplicaCount: 2,
      scaleTargetRef: { kind: "Deployment", name: "p-chat-8b" },
    });
  });

  it("validates against the KEDA schema, scale-to-zero included", () => {
    validateK8sObject(scaled);
    validateK8sObject(scaledObject("p", "d", replicas(0, 3), "exp"));
  });
});

describe("horizontalPodAutoscaler", () => {
  it("scales on the queue per pod between the spec's min and max", () => {
    const hpa = horizontalPodAutoscaler("p", "chat-8b", chat8b, "exp") as unknown as IHorizontalPodAutoscaler;
    expect(hpa.spec).toMatchObject({ maxReplicas: 6, minReplicas: 2 });
    expect(hpa.spec!.metrics![0]!.pods!.metric.name).toBe("vllm_num_requests_waiting");
    validateK8sObject(hpa);
  });

  it("refuses min 0, which an HPA cannot do, naming replicas.min", () => {
    const error = inputPropertyError(() => horizontalPodAutoscaler("p", "chat-8b", replicas(0, 3), "exp"));
    expect(error.propertyPath).toBe("deployments.chat-8b.replicas.min");
  });
});

describe("podDisruptionBudget", () => {
  it("lets one serving pod go at a time and never blocks on pods that are not ready", () => {
    const pdb = podDisruptionBudget("p", "chat-8b", "exp") as unknown as IPodDisruptionBudget;
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" });
    validateK8sObject(pdb);
  });
});

describe("autoscales", () => {
  it.each([
    { min: 2, max: 2, expected: false },
    { min: 1, max: 4, expected: true },
    { min: 0, max: 1, expected: true },
  ])("is $expected for min $min and max $max", ({ min, max, expected }) => {
    expect(autoscales(replicas(min, max))).toBe(expected);
  });
});

describe("queueQuery", () => {
  it("sums over the pods of one deployment in one namespace", () => {
    expect(queueQuery("e", "d", "n")).toBe(
      'sum(vllm:num_requests_waiting{namespace="n",llm_ab_experiment="e",llm_ab_deployment="d"})',
    );
  });
});
