import { beforeEach, describe, expect, it } from "vitest";
import { settle, setupPulumiMocks } from "../helpers/pulumi.ts";

const recorder = await setupPulumiMocks();
const { ExperimentMonitoring } = await import("../../components/experiment-monitoring.ts");
const { loadSpecFile } = await import("../../spec/load.ts");
const { validateK8sObject } = await import("../helpers/k8s-validate.ts");
const { routerTokenSecret } = await import("../../monitoring/objects.ts");

const spec = await loadSpecFile("examples/support-bot-policy-prompt.yaml");

beforeEach(() => recorder.clear());

describe("ExperimentMonitoring", () => {
  it("emits a PrometheusRule, an AlertmanagerConfig and a dashboard ConfigMap, all valid", async () => {
    new ExperimentMonitoring("m", {
      spec,
      namespace: "exp",
      labels: { release: "kube-prometheus-stack" },
    });
    await settle();
    const objects = recorder.k8sObjects();
    expect(objects.map((o) => o.kind).sort()).toEqual(["AlertmanagerConfig", "ConfigMap", "PrometheusRule"]);
    for (const object of objects) {
      validateK8sObject(object);
      expect((object.metadata as { labels: Record<string, string> }).labels.release).toBe(
        "kube-prometheus-stack",
      );
    }
  });

  it("sends pause and rollback to the router's admin webhook with the token Secret", async () => {
    new ExperimentMonitoring("m", { spec, namespace: "exp" });
    await settle();
    const config = recorder.get(
      "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig",
      "m-alertmanager",
    );
    const text = JSON.stringify(config.inputs);
    expect(text).toContain("http://support-bot-policy-prompt-router-admin.exp.svc:8081/alertmanager");
    expect(text).toContain(JSON.stringify({ key: "token", name: routerTokenSecret(spec).name }));
  });

  it("exposes the dashboard uid and the alert names of the rule file", async () => {
    const monitoring = new ExperimentMonitoring("m", { spec });
    await settle();
    const rule = recorder.get("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "m-rules");
    for (const name of monitoring.alertNames)
      expect(JSON.stringify(rule.inputs)).toContain(`"alert":"${name}"`);
    expect(monitoring.alertNames.length).toBeGreaterThan(0);
    const dashboard = recorder.get("kubernetes:core/v1:ConfigMap", "m-dashboard");
    expect(Object.keys(dashboard.inputs.data as object)).toEqual([`${monitoring.dashboardUid}.json`]);
  });
});
