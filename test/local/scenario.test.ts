import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { crossCheck, loadScenario } from "../../local/scenario.ts";
import { type Scenario, scenarioSchema, secondsInto } from "../../local/scenario-schema.ts";
import { SpecError, type SpecProblem } from "../../spec/errors.ts";
import { loadSpecFile } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { DELETE, patched } from "../spec/spec-fixtures.ts";

const SCENARIO_DIR = fileURLToPath(new URL("../../examples/scenarios/", import.meta.url));
const SPEC_PATH = fileURLToPath(new URL("../../examples/support-bot-fine-tune.yaml", import.meta.url));
const shipped = readdirSync(SCENARIO_DIR).filter((file) => file.endsWith(".yaml"));

// Scenarios under test live beside a copy of the spec and name it relatively, as shipped ones do.
const dir = mkdtempSync(join(tmpdir(), "llm-ab-scenario-"));
copyFileSync(SPEC_PATH, join(dir, "spec.yaml"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The shipped `winner` scenario as a plain value, pointing at the spec copy beside it. */
function winner(): Record<string, unknown> {
  const value = parse(readFileSync(join(SCENARIO_DIR, "winner.yaml"), "utf8")) as Record<string, unknown>;
  return { ...value, spec: "spec.yaml" };
}

let files = 0;
function scenarioFile(text: string): string {
  const path = join(dir, `scenario-${++files}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** The problems loading `text` reports; fails when it loads. */
async function problemsOf(text: string): Promise<{ path: string; error: SpecError }> {
  const path = scenarioFile(text);
  const error = await loadScenario(path).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof SpecError)) throw new Error(`expected a SpecError, got ${String(error)}`);
  return { path, error };
}

const problems = (error: SpecError): SpecProblem[] => [...error.problems];

describe("loadScenario", () => {
  it.each(shipped)("loads the shipped scenario %s against its spec", async (file) => {
    const loaded = await loadScenario(join(SCENARIO_DIR, file));
    expect(loaded.scenario.name).toBe(file.replace(/\.yaml$/, ""));
    expect(loaded.specPath).toBe(SPEC_PATH);
    expect(loaded.spec.name).toBe("support-bot-fine-tune");
    expect(Object.keys(loaded.scenario.outcomes).sort()).toEqual(["control", "treatment"]);
  });

  it("resolves the spec relative to the scenario file and fills the defaults", async () => {
    const { deployments: _dropped, duration: _duration, seed: _seed, ...bare } = winner();
    const path = scenarioFile(stringify(bare));
    const loaded = await loadScenario(path);
    expect(loaded.path).toBe(path);
    expect(loaded.specPath).toBe(join(dir, "spec.yaml"));
    expect(loaded.scenario.duration).toBe("2m");
    expect(loaded.scenario.seed).toBe(1);
    expect(loaded.scenario.deployments).toEqual({});
    expect(loaded.scenario.traffic.turns).toEqual({ min: 1, max: 4 });
  });

  it("reports a missing file by its path", async () => {
    const path = join(dir, "no-such-scenario.yaml");
    const error = await loadScenario(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).source).toBe(path);
    expect((error as SpecError).message).toBe(`${path}: 1 problem\n  file not found`);
  });

  it.each([
    {
      what: "a key written twice",
      text: "name: t\ntitle: T\ntitle: U\n",
      at: "line 3, column 1",
      says: /unique/,
    },
    {
      what: "an unclosed flow sequence",
      text: "name: t\ntitle: T\nstory: S\nspec: spec.yaml\noutcomes:\n  control: [1, 2\n",
      at: "line 7, column 1",
      says: /flow sequence/i,
    },
  ])("names the file, line and column of a YAML syntax error ($what)", async ({ text, at, says }) => {
    const { path, error } = await problemsOf(text);
    expect(error.source).toBe(path);
    expect(error.message.startsWith(`${path}: `)).toBe(true);
    const [problem, ...rest] = problems(error);
    expect(rest).toEqual([]);
    expect(problem?.message).toContain(`YAML syntax error at ${at}:`);
    expect(problem?.message).toMatch(says);
  });

  it.each([
    {
      what: "a share of the run above 100 %",
      patch: [["deployments", "chat-8b", "changes"], [{ at: "140%", ttftFactor: 2 }]],
      path: "deployments.chat-8b.changes[0].at",
      says: 'must be a share of the run such as "40%" or a duration such as "30s", got "140%"',
    },
    {
      what: "a time that is neither a share nor a duration",
      patch: [
        ["deployments", "chat-8b-support", "changes"],
        [
          { at: "10s", errorRate: 0.1 },
          { at: "soon", errorRate: 0.2 },
        ],
      ],
      path: "deployments.chat-8b-support.changes[1].at",
      says: 'got "soon"',
    },
    {
      what: "a change with no effect",
      patch: [["deployments", "chat-8b", "changes"], [{ at: "40%", note: "nothing happens" }]],
      path: "deployments.chat-8b.changes[0]",
      says: "a change must set at least one of ttftFactor, itlFactor, errorRate, addReplicas",
    },
    {
      what: "an unknown key in a change",
      patch: [["deployments", "chat-8b", "changes"], [{ at: "40%", ttftFactor: 2, ttft: 3 }]],
      path: "deployments.chat-8b.changes[0]",
      says: '"ttft"',
    },
    {
      what: "too many replicas",
      patch: [["deployments", "chat-8b", "replicas"], 9],
      path: "deployments.chat-8b.replicas",
      says: "8",
    },
    {
      what: "a traffic range with min above max",
      patch: [["traffic", "turns"], { min: 5, max: 2 }],
      path: "traffic.turns",
      says: "min must not exceed max",
    },
    {
      what: "an outcome that is neither binary nor continuous",
      patch: [["outcomes", "control", "csat"], { median: 4 }],
      path: "outcomes.control.csat",
      says: "must be { probability } for a binary outcome or { mean, sd } for a continuous one",
    },
    {
      what: "a name with capitals",
      patch: [["name"], "Winner"],
      path: "name",
      says: 'must be lowercase letters, digits and dashes, got "Winner"',
    },
  ] as const)("names the field path of a schema problem: $what", async ({ patch, path, says }) => {
    const { path: file, error } = await problemsOf(stringify(patched(winner(), [patch])));
    expect(error.source).toBe(file);
    const found = problems(error).find((problem) => problem.path === path);
    expect(found, error.message).toBeDefined();
    expect(found?.message).toContain(says);
  });

  it("reports every schema problem at once", async () => {
    const text = stringify(
      patched(winner(), [
        [
          ["deployments", "chat-8b", "changes"],
          [{ at: "soon", ttftFactor: 2 }, { at: "10s" }],
        ],
        [["seed"], -1],
      ]),
    );
    const paths = problems((await problemsOf(text)).error).map((problem) => problem.path);
    expect(paths).toEqual(
      expect.arrayContaining(["deployments.chat-8b.changes[0].at", "deployments.chat-8b.changes[1]", "seed"]),
    );
  });

  it("reports a spec it cannot find under the spec's path", async () => {
    const error = await loadScenario(scenarioFile(stringify({ ...winner(), spec: "missing.yaml" }))).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).source).toBe(join(dir, "missing.yaml"));
  });

  it("reports problems against the spec naming the scenario file", async () => {
    const text = stringify(
      patched(winner(), [
        [["deployments", "chat-9b"], { replicas: 1 }],
        [["outcomes", "control", "nps"], { mean: 30, sd: 10 }],
      ]),
    );
    const { path, error } = await problemsOf(text);
    expect(error.source).toBe(path);
    expect(problems(error)).toEqual([
      {
        path: "deployments.chat-9b",
        message: 'the spec has no deployment "chat-9b" (it has: chat-8b, chat-8b-support)',
      },
      {
        path: "outcomes.control.nps",
        message: 'the spec declares no outcome "nps" (it has: resolution_rate, csat)',
      },
    ]);
  });
});

describe("crossCheck", () => {
  const scenario = (patches: Parameters<typeof patched>[1] = []): Scenario =>
    scenarioSchema.parse(patched(winner(), patches));
  let spec: ExperimentSpec;
  beforeAll(async () => {
    spec = await loadSpecFile(SPEC_PATH);
  });

  it("finds nothing wrong with a shipped scenario", () => {
    expect(crossCheck(scenario(), spec)).toEqual([]);
  });

  it.each([
    {
      what: "an unknown deployment",
      patches: [[["deployments", "chat-70b"], {}]],
      expected: {
        path: "deployments.chat-70b",
        message: 'the spec has no deployment "chat-70b" (it has: chat-8b, chat-8b-support)',
      },
    },
    {
      what: "a variant without outcomes",
      patches: [[["outcomes", "treatment"], DELETE]],
      expected: { path: "outcomes", message: 'no outcomes for variant "treatment" of the spec' },
    },
    {
      what: "a variant missing one outcome metric",
      patches: [[["outcomes", "treatment"], { resolution_rate: { probability: 0.7 } }]],
      expected: { path: "outcomes.treatment", message: 'no distribution for the spec\'s outcome "csat"' },
    },
    {
      what: "a binary metric drawn from { mean, sd }",
      patches: [[["outcomes", "treatment", "resolution_rate"], { mean: 0.7, sd: 0.1 }]],
      expected: {
        path: "outcomes.treatment.resolution_rate",
        message: '"resolution_rate" is a binary metric: give { probability }',
      },
    },
    {
      what: "an outcome metric the spec does not declare",
      patches: [[["outcomes", "control", "nps"], { mean: 30, sd: 10 }]],
      expected: {
        path: "outcomes.control.nps",
        message: 'the spec declares no outcome "nps" (it has: resolution_rate, csat)',
      },
    },
    {
      what: "a variant the spec does not have",
      patches: [[["outcomes", "treatment-b"], { resolution_rate: { probability: 0.6 } }]],
      expected: {
        path: "outcomes.treatment-b",
        message: 'the spec has no variant "treatment-b" (it has: control, treatment)',
      },
    },
  ] as const)("reports $what", ({ patches, expected }) => {
    expect(crossCheck(scenario(patches), spec)).toEqual([expected]);
  });

  it("refuses a spec that is not a two-variant A/B test", () => {
    const canary = { ...spec, rollout: { ...spec.rollout, mode: "canary" as const } };
    expect(crossCheck(scenario(), canary)).toEqual([
      { path: "spec", message: "the demo runs A/B experiments; the spec's rollout.mode is canary" },
    ]);
    const control = spec.variants.control;
    if (control === undefined) throw new Error("the spec has no control");
    const three = {
      ...spec,
      variants: { ...spec.variants, "treatment-b": { ...control, role: "treatment" } },
    };
    expect(crossCheck(scenario(), three as ExperimentSpec)).toContainEqual({
      path: "spec",
      message: "the demo runs one control and one treatment",
    });
  });
});

describe("secondsInto", () => {
  it.each([
    ["40%", 120, 48],
    ["0%", 120, 0],
    ["100%", 90, 90],
    ["12.5%", 80, 10],
    ["30s", 120, 30],
    ["500ms", 120, 0.5],
    ["2m", 60, 120],
    ["1h", 60, 3600],
    ["1d", 60, 86_400],
  ])("places %s of a %i s run at %d s", (at, duration, expected) => {
    expect(secondsInto(at, duration)).toBeCloseTo(expected, 9);
  });

  it.each(["soon", "30", "1.5s", "-5s", ""])("refuses %j", (at) => {
    expect(() => secondsInto(at, 120)).toThrow(RangeError);
  });
});
