import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import { loadSpecFile, parseSpec } from "../../spec/load.ts";
import {
  type ExperimentSpec,
  type ExperimentSpecInput,
  experimentSpecSchema,
  type Guardrail,
  type Variant,
} from "../../spec/schema.ts";
import { examplePaths, patched } from "./spec-fixtures.ts";

/** The least an author must write. */
function minimalInput(): ExperimentSpecInput {
  return {
    name: "prompt-duel",
    hypothesis: "The new prompt resolves more chats",
    unit: "conversation",
    rollout: { mode: "ab" },
    variants: {
      control: { deployment: "chat" },
      treatment: { deployment: "chat", systemPrompt: "Cite the policy." },
    },
    deployments: { chat: { image: "vllm/vllm-openai:v0.11.0", model: "meta-llama/Llama-3.1-8B-Instruct" } },
    metrics: { primary: [{ name: "resolution_rate", kind: "binary", baseline: 0.6, mde: 0.05 }] },
  };
}

describe("defaults", () => {
  it("fills in every default of a minimal spec", () => {
    expect(parseSpec(minimalInput())).toEqual({
      name: "prompt-duel",
      hypothesis: "The new prompt resolves more chats",
      unit: "conversation",
      salt: "prompt-duel",
      hashVersion: 1,
      rollout: { mode: "ab", treatmentPercent: 50, mirrorPercent: 0 },
      variants: {
        control: {
          role: "control",
          deployment: "chat",
          model: "meta-llama/Llama-3.1-8B-Instruct",
          systemPromptMode: "replace",
          params: {},
        },
        treatment: {
          role: "treatment",
          deployment: "chat",
          model: "meta-llama/Llama-3.1-8B-Instruct",
          systemPrompt: "Cite the policy.",
          systemPromptMode: "replace",
          params: {},
        },
      },
      deployments: {
        chat: {
          image: "vllm/vllm-openai:v0.11.0",
          model: "meta-llama/Llama-3.1-8B-Instruct",
          servedModelName: "meta-llama/Llama-3.1-8B-Instruct",
          gpus: 1,
          replicas: { min: 1, max: 1, warmPool: 0 },
          warmup: { requests: 20, seconds: 120, idleSeconds: 300 },
        },
      },
      metrics: {
        primary: [
          { name: "resolution_rate", kind: "binary", direction: "increase", baseline: 0.6, mde: 0.05 },
        ],
        secondary: [],
        guardrails: [],
      },
      analysis: { alpha: 0.05, power: 0.8, correction: "benjamini-hochberg", srmThreshold: 0.001 },
      monitoring: {
        evaluationInterval: "1m",
        window: "5m",
        local: { evaluationInterval: "2s", window: "10s" },
      },
      router: {
        unitSources: [{ header: "x-llm-ab-unit" }, { header: "x-llm-ab-conversation" }, { body: "user" }],
        store: "memory",
        maxStoredUnits: 1_000_000,
        answerSamplePercent: 0,
      },
      gate: {
        required: false,
        minWinRateLowerBound: 0.5,
        maxAxisRegression: 0.25,
        minCases: 30,
        minAuditLabels: 20,
        minJudgeAgreement: 0.6,
      },
    });
  });

  it.each([
    ["ab", 50, 0],
    ["canary", 5, 0],
    ["shadow", 0, 100],
  ] as const)(
    "gives rollout mode %s a treatment percent of %i and a mirror percent of %i",
    (mode, treatment, mirror) => {
      const spec = parseSpec(patched(minimalInput(), [[["rollout"], { mode }]]));
      expect(spec.rollout).toEqual({ mode, treatmentPercent: treatment, mirrorPercent: mirror });
    },
  );

  it("derives a variant's model from its deployment's served name unless it names one", () => {
    const spec = parseSpec(
      patched(minimalInput(), [
        [["deployments", "chat", "servedModelName"], "support-chat"],
        [["variants", "treatment", "model"], "support-chat-lora"],
      ]),
    );
    expect(spec.variants.control?.model).toBe("support-chat");
    expect(spec.variants.treatment?.model).toBe("support-chat-lora");
  });

  it("resolves each guardrail's direction from the catalogue or the declared metric", () => {
    const spec = parseSpec(
      patched(minimalInput(), [
        [
          ["metrics", "guardrails"],
          [
            { name: "error_rate", max: 0.01 },
            { name: "resolution_rate", min: 0.5 },
          ],
        ],
      ]),
    );
    expect(spec.metrics.guardrails.map((guardrail) => [guardrail.name, guardrail.direction])).toEqual([
      ["error_rate", "decrease"],
      ["resolution_rate", "increase"],
    ]);
    expect(spec.metrics.guardrails[0]).toMatchObject({
      replicaState: "any",
      windows: 2,
      minSamples: 100,
      action: "review",
    });
  });

  it("stores unit-source header names in lowercase", () => {
    const spec = parseSpec(patched(minimalInput(), [[["router", "unitSources"], [{ header: "X-User-Id" }]]]));
    expect(spec.router.unitSources).toEqual([{ header: "x-user-id" }]);
  });

  it("gives every parse its own default lists, so one caller's edit cannot leak into another's spec", () => {
    const first = parseSpec(minimalInput());
    first.router.unitSources.push({ body: "user" });
    first.metrics.guardrails.push(...first.metrics.guardrails);
    const second = parseSpec(minimalInput());
    expect(second.router.unitSources).toHaveLength(3);
  });

  it("exposes precise types to the modules that read a spec", () => {
    expectTypeOf<ExperimentSpec["rollout"]["treatmentPercent"]>().toEqualTypeOf<number>();
    expectTypeOf<Variant["role"]>().toEqualTypeOf<"control" | "treatment">();
    expectTypeOf<Variant["model"]>().toEqualTypeOf<string>();
    expectTypeOf<Guardrail["direction"]>().toEqualTypeOf<"increase" | "decrease">();
    expectTypeOf<ExperimentSpec["deployments"][string]["replicas"]["max"]>().toEqualTypeOf<number>();
    expectTypeOf<ExperimentSpec["salt"]>().toEqualTypeOf<string>();
  });
});

describe("the examples", () => {
  it("parses the prompt duel with its written values and defaults", async () => {
    const spec = await loadSpecFile(examplePaths.promptDuel);
    expect(spec.name).toBe("support-bot-policy-prompt");
    expect(spec.rollout).toEqual({ mode: "ab", treatmentPercent: 10, mirrorPercent: 0 });
    expect(spec.variants.control).toMatchObject({
      role: "control",
      deployment: "chat-8b",
      systemPromptMode: "replace",
    });
    expect(spec.variants.treatment).toMatchObject({ role: "treatment", deployment: "chat-8b" });
    expect(spec.deployments["chat-8b"]?.replicas).toEqual({ min: 2, max: 8, warmPool: 1 });
    expect(spec.metrics.guardrails.map((guardrail) => guardrail.action)).toEqual([
      "pause",
      "rollback",
      "review",
    ]);
    expect(spec.metrics.guardrails[1]?.replicaState).toBe("any");
    expect(spec.analysis.sequential).toEqual({ looks: [0.25, 0.5, 0.75, 1], spending: "obrien-fleming" });
    expect(spec.analysis.srmThreshold).toBe(0.001);
    expect(spec.monitoring.evaluationInterval).toBe("1m");
    expect(spec.router.store).toBe("memory");
  });

  it("parses the model swap: two GPU deployments, a canary and sequential looks", async () => {
    const spec = await loadSpecFile(examplePaths.modelSwap);
    expect(spec.rollout).toEqual({ mode: "canary", treatmentPercent: 5, mirrorPercent: 0 });
    expect(spec.variants["llama-70b"]).toMatchObject({ role: "treatment", model: "support-chat" });
    expect(spec.deployments["chat-70b-awq"]).toMatchObject({ gpus: 2, maxModelLen: 16384 });
    expect(spec.metrics.primary.map((metric) => metric.kind)).toEqual(["continuous", "ratio"]);
    expect(spec.metrics.guardrails.filter((guardrail) => guardrail.replicaState === "warm")).toHaveLength(2);
    expect(spec.analysis.sequential?.looks.at(-1)).toBe(1);
    expect(spec.router).toMatchObject({
      store: "redis",
      unitSources: [{ header: "x-user-id" }, { body: "user" }],
    });
    expect(spec.gate.required).toBe(false);
  });
});

type AnySchema = z.core.$ZodType;

/** Every object field under `schema`, with its dotted path, looking through wrappers. */
function fields(schema: AnySchema, path: string, out: [string, AnySchema][] = []): [string, AnySchema][] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  const inner = (key: string) => def[key] as AnySchema;
  switch (def.type) {
    case "object":
      for (const [key, field] of Object.entries(def.shape as Record<string, AnySchema>)) {
        out.push([`${path}${key}`, field]);
        fields(field, `${path}${key}.`, out);
      }
      break;
    case "optional":
    case "default":
    case "prefault":
      fields(inner("innerType"), path, out);
      break;
    case "pipe":
      fields(inner("in"), path, out);
      break;
    case "array":
      fields(inner("element"), path, out);
      break;
    case "record":
      fields(inner("valueType"), path, out);
      break;
    case "union":
      for (const option of def.options as AnySchema[]) fields(option, path, out);
      break;
  }
  return out;
}

describe("documentation in the schema", () => {
  const all = fields(experimentSpecSchema, "");

  it("describes every field, so a reader never has to guess what it means", () => {
    const undocumented = all.filter(([, field]) => !(field as z.ZodType).description).map(([path]) => path);
    expect(undocumented).toEqual([]);
  });

  it("states the default in the description of every field that has one", () => {
    const silent = all
      .filter(([, field]) => field._zod.def.type === "default")
      .filter(([, field]) => !/Default/.test((field as z.ZodType).description ?? ""))
      .map(([path]) => path);
    expect(silent).toEqual([]);
  });
});
