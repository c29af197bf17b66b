import { describe, expect, it } from "vitest";
import { KNOWN_K8S_KINDS, validateK8sObject } from "./k8s-validate.ts";

const service = (port: unknown) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "chat" },
  spec: { ports: [{ port }] },
});

describe("validateK8sObject", () => {
  it("accepts a valid core object", () => {
    expect(() => validateK8sObject(service(8000))).not.toThrow();
  });

  it("rejects an invalid object, naming its kind, name and the schema error", () => {
    expect(() => validateK8sObject(service("8000"))).toThrow(/Service chat is invalid: .*must be integer/);
  });

  it("validates CRDs against the prometheus-operator and KEDA schemas", () => {
    const scaled = {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: { name: "s" },
      spec: { scaleTargetRef: { name: "d" }, triggers: [{ metadata: {}, type: "prometheus" }] },
    };
    expect(() => validateK8sObject(scaled)).not.toThrow();
    expect(() => validateK8sObject({ ...scaled, spec: { triggers: [] } })).toThrow(
      /ScaledObject s is invalid/,
    );
    const monitor = {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PodMonitor",
      metadata: { name: "m" },
      spec: {},
    };
    expect(() => validateK8sObject(monitor)).toThrow(/PodMonitor m is invalid/);
  });

  it.each([
    {
      obj: { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } },
      message: /Widget w: unknown kind/,
    },
    { obj: { apiVersion: "apps/v2", kind: "Deployment" }, message: /unknown kind apps\/v2\/Deployment/ },
    { obj: "Service", message: /not a Kubernetes object/ },
  ])("throws on what it does not know: $obj", ({ obj, message }) => {
    expect(() => validateK8sObject(obj)).toThrow(message);
  });

  it("lists the kinds it knows in a stable order", () => {
    expect(KNOWN_K8S_KINDS).toEqual([...KNOWN_K8S_KINDS].sort());
    expect(KNOWN_K8S_KINDS).toContain("keda.sh/v1alpha1/ScaledObject");
  });
});
