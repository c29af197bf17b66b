import { beforeEach, describe, expect, it } from "vitest";
import { inputPropertyError, promisify, setupPulumiMocks } from "../helpers/pulumi.ts";

const recorder = await setupPulumiMocks();
const { Experiment, checkGuardrails } = await import("../../components/experiment.ts");
const { planExperiment } = await import("../../analysis/plan.ts");
const { loadSpecFile } = await import("../../spec/load.ts");
const { abnSpec } = await import("../helpers/abn-data.ts");

const bandit = await loadSpecFile("examples/support-bot-prompt-bandit.yaml");
const threeArms = abnSpec();

beforeEach(() => recorder.clear());

describe("the plan output of an Experiment with several arms", () => {
  it.each([
    ["three arms split by percent (A/B/n)", threeArms],
    ["a four-arm bandit", bandit],
  ])("sizes %s as the analysis plans it", async (_case, spec) => {
    const experiment = new Experiment("e", {
      spec,
      router: { placement: { kind: "standalone", replicas: 1 } },
    });
    const expected = planExperiment(spec).metrics.map((m) => ({
      metric: m.name,
      perArm: m.perArm,
      total: m.total,
      days: m.days,
    }));
    expect(expected.length).toBeGreaterThan(0);
    expect(await promisify(experiment.plan)).toEqual(expected);
  });
});

describe("checkGuardrails with several arms", () => {
  const none = { ...bandit.metrics, guardrails: [] };

  it("refuses a bandit without guardrails, saying that every treatment gets units", () => {
    const { propertyPath, reason } = inputPropertyError(() =>
      checkGuardrails({ rollout: bandit.rollout, metrics: none }),
    );
    expect(propertyPath).toBe("metrics.guardrails");
    expect(reason).toContain("rollout.mode bandit sends units to every treatment, each at least its floor");
    expect(reason).not.toContain("%");
  });

  it("quotes the percent the treatments share in an A/B/n split", () => {
    const { reason } = inputPropertyError(() =>
      checkGuardrails({ rollout: threeArms.rollout, metrics: { ...threeArms.metrics, guardrails: [] } }),
    );
    expect(reason).toContain("rollout.mode ab sends 60% of units to the treatments");
  });
});
