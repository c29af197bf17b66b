import { beforeAll, describe, expect, it } from "vitest";
import { renderStackObjects } from "../../cli/render.ts";
import { SRM_ALERT } from "../../monitoring/srm-rules.ts";
import { parseSpec } from "../../spec/load.ts";
import { abnInput } from "../helpers/abn-data.ts";
import { validateK8sObject } from "../helpers/k8s-validate.ts";
import { dashboardOf, type K8sObject, meta, only, projectWith, routerSpecOf } from "./stack-objects.ts";

const serving = { image: "vllm/vllm-openai:v0.11.0", gpus: 1, replicas: { min: 1, max: 2, warmPool: 1 } };
/** Three arms, each on its own model: control, and two treatments that swap the model. */
const spec = abnInput({
  name: "trio-models",
  variants: {
    control: { deployment: "base" },
    "treatment-a": { deployment: "tuned-a" },
    "treatment-b": { deployment: "tuned-b" },
  },
  deployments: {
    base: { ...serving, model: "org/base" },
    "tuned-a": { ...serving, model: "org/tuned-a" },
    "tuned-b": { ...serving, model: "org/tuned-b" },
  },
});

describe("a stack with several treatments (A/B/n)", () => {
  let objects: K8sObject[];
  beforeAll(async () => {
    const dir = await projectWith({
      "llm-ab:spec": spec,
      "llm-ab:namespace": "trio",
      "llm-ab:router": { placement: { kind: "standalone", replicas: 1 } },
    });
    objects = await renderStackObjects("t", dir);
  });

  it("emits only Kubernetes objects that validate against the official schemas", () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const object of objects) validateK8sObject(object);
  });

  it.each(["base", "tuned-a", "tuned-b"])(
    "serves deployment %s with its own labelled workload, Services, PodMonitor and scaler",
    (key) => {
      const own = objects.filter((o) => meta(o).labels?.["llm-ab/deployment"] === key);
      const kinds = own.map((o) => `${String(o.kind)} ${meta(o).name}`);
      for (const expected of [
        `Deployment trio-models-${key}`,
        `Service trio-models-${key}`,
        `Service trio-models-${key}-api`,
        `PodMonitor trio-models-${key}`,
        `ScaledObject trio-models-${key}`,
      ]) {
        expect(kinds).toContain(expected);
      }
      const deployment = only(own, "Deployment", (name) => name === `trio-models-${key}`);
      const { selector } = deployment.spec as { selector: { matchLabels: Record<string, string> } };
      expect(selector.matchLabels["llm-ab/deployment"]).toBe(key);
    },
  );

  it("gives the router a spec it parses back to the same three arms", () => {
    expect(parseSpec(routerSpecOf(objects), "the router's spec.json")).toEqual(parseSpec(spec));
  });

  it("gives the router every arm, each on its own deployment", () => {
    const variants = routerSpecOf(objects).variants as Record<string, { deployment: string; role: string }>;
    expect(Object.entries(variants).map(([name, v]) => [name, v.role, v.deployment])).toEqual([
      ["control", "control", "base"],
      ["treatment-a", "treatment", "tuned-a"],
      ["treatment-b", "treatment", "tuned-b"],
    ]);
  });

  it("checks the split of both treatments and judges every treatment against control", () => {
    const rule = only(objects, "PrometheusRule");
    const alerts = (rule.spec as { groups: { rules: { alert?: string; expr: string }[] }[] }).groups
      .flatMap((group) => group.rules)
      .filter((r) => r.alert !== undefined);
    expect(JSON.stringify(alerts.find((r) => r.alert === SRM_ALERT))).toContain("split over 2 treatments");
    const guardrail = alerts.find((r) => r.alert?.startsWith("LlmAbGuardrail"));
    expect(guardrail?.expr).toContain('variant!="control"');
  });

  it("lists every arm in the dashboard's variant picker", () => {
    expect(JSON.stringify(dashboardOf(objects).templating)).toContain("control,treatment-a,treatment-b");
  });
});
