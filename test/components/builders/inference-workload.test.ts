import type { IPodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IService } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import {
  clusterIpService,
  headlessService,
  podMonitor,
  servingDeployment,
} from "../../../components/builders/inference-workload.ts";
import { validateK8sObject } from "../../helpers/k8s-validate.ts";
import { chat8b, chat70b, deployment } from "../inference-fixtures.ts";

const serving = (d = chat8b) => servingDeployment("p", "chat-8b", d, "exp") as unknown as IDeployment;

describe("servingDeployment", () => {
  it("leaves the replica count to the autoscaler when the spec autoscales", () => {
    expect(serving().spec!.replicas).toBeUndefined();
  });

  it("fixes the replica count when min equals max", () => {
    const fixed = deployment({ image: "vllm/vllm-openai:v0.11.0", model: "m", replicas: { min: 3 } });
    expect(serving(fixed).spec!.replicas).toBe(3);
  });

  it("rolls out without dropping below the serving count", () => {
    expect(serving().spec!.strategy).toEqual({
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
      type: "RollingUpdate",
    });
  });

  it("runs at the serving priority on tainted GPU nodes", () => {
    const pod = serving(chat70b).spec!.template.spec!;
    expect(pod.priorityClassName).toBe("p-chat-8b-serving");
    expect(pod.tolerations).toHaveLength(1);
  });

  it("validates against the Kubernetes schema", () => {
    validateK8sObject(serving());
    validateK8sObject(serving(chat70b));
  });
});

describe("Services", () => {
  it("name the headless Service <experiment>-<deployment> with no cluster IP, for the router's DNS", () => {
    const headless = headlessService("p", "chat-8b", "exp") as unknown as IService;
    expect(headless.metadata!.name).toBe("p-chat-8b");
    expect(headless.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: false });
    expect(headless.spec!.ports).toEqual([{ name: "http", port: 8000, protocol: "TCP", targetPort: "http" }]);
    validateK8sObject(headless);
  });

  it("add a ClusterIP Service selecting the same pods", () => {
    const service = clusterIpService("p", "chat-8b", "exp") as unknown as IService;
    expect(service.metadata!.name).toBe("p-chat-8b-api");
    expect(service.spec!.selector).toEqual(
      (headlessService("p", "chat-8b", "exp") as unknown as IService).spec!.selector,
    );
    validateK8sObject(service);
  });
});

describe("podMonitor", () => {
  it("scrapes /metrics and copies the labels the KEDA query selects on", () => {
    const monitor = podMonitor("p", "chat-8b", "exp", { release: "kps" }) as unknown as IPodMonitor;
    expect(monitor.spec.podMetricsEndpoints).toEqual([{ interval: "15s", path: "/metrics", port: "http" }]);
    expect(monitor.spec.podTargetLabels).toEqual(["llm-ab/deployment", "llm-ab/experiment"]);
    expect(monitor.metadata!.labels!.release).toBe("kps");
    validateK8sObject(monitor);
  });
});
