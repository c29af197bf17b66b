/**
 * The rendered rules under Debian's promtool: `check rules` on every rendering, the hand-written
 * scenario suites in ./promtool/ (against the rules of ./promtool/scenario-spec.yaml), and the suites
 * generated for every guardrail of the example specs (see guardrail-cases.ts). The suites with a
 * spec of their own (promtool-suites.ts) run in promtool-abn.test.ts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { rulesYaml } from "../../monitoring/rules.ts";
import { loadSpecFile } from "../../spec/load.ts";
import { checkRules, testRules } from "../helpers/promtool.ts";
import { examplePaths } from "../spec/spec-fixtures.ts";
import { guardrailCases } from "./guardrail-cases.ts";
import { specSuites } from "./promtool-suites.ts";

const suiteDir = fileURLToPath(new URL("./promtool/", import.meta.url));
const examples = {
  promptDuel: await loadSpecFile(examplePaths.promptDuel),
  modelSwap: await loadSpecFile(examplePaths.modelSwap),
};
const profiles = ["production", "local"] as const;

describe("promtool check rules", () => {
  const renderings = Object.values(examples).flatMap((spec) =>
    profiles.map((profile) => ({ name: `${spec.name} (${profile})`, spec, profile })),
  );

  it.each(renderings)("passes on the rules of $name, with every lint fatal", ({ spec, profile }) => {
    const run = checkRules({ "rules.yaml": rulesYaml(spec, { profile }) });
    expect(run.output).toContain("SUCCESS");
    expect(run.ok, run.output).toBe(true);
  });

  it("passes on two experiments' rule files loaded side by side", () => {
    const run = checkRules({
      "prompt-duel.yaml": rulesYaml(examples.promptDuel),
      "model-swap.yaml": rulesYaml(examples.modelSwap),
    });
    expect(run.ok, run.output).toBe(true);
  });

  it("fails on a broken rule file, so a pass means something", () => {
    const broken = rulesYaml(examples.promptDuel).replace(
      "histogram_quantile(0.5,",
      "histogram_quantile(0.5,,",
    );
    expect(checkRules({ "rules.yaml": broken }).ok).toBe(false);
  });
});

const scenarioRules = rulesYaml(await loadSpecFile(`${suiteDir}scenario-spec.yaml`));
const scenarios = [
  [
    "warm-ttft-regression.yaml",
    "a warm TTFT regression fires exactly at the for: boundary and not one interval before",
  ],
  [
    "cold-only-regression.yaml",
    "a cold-only regression fires the cold review alert but not the warm guardrail",
  ],
  ["too-few-requests.yaml", "too few requests fire nothing"],
  ["inside-margin.yaml", "a ratio inside the margin fires nothing"],
  ["error-rate-rollback.yaml", 'an error-rate breach fires with action="rollback"'],
  ["sample-ratio-mismatch.yaml", "SRM fires at 5,000 vs 5,400 on a 50/50 design and not at 5,000 vs 5,050"],
  ["treatment-no-data.yaml", "vanished treatment data fires the no-data alert"],
] as const;

describe("hand-written promtool scenarios", () => {
  it("run every suite in the folder", () => {
    const specs = new Set(["scenario-spec.yaml", ...specSuites.map((suite) => suite.spec)]);
    const suites = readdirSync(suiteDir).filter((file) => file.endsWith(".yaml") && !specs.has(file));
    const known = [...scenarios.map(([file]) => file), ...specSuites.map((suite) => suite.file)];
    expect(suites.sort()).toEqual(known.sort());
  });

  it.each(scenarios)("%s shows that %s", (file) => {
    const run = testRules(
      { "rules.yaml": scenarioRules, [file]: readFileSync(`${suiteDir}${file}`, "utf8") },
      [file],
    );
    expect(run.ok, run.output).toBe(true);
  });
});

describe("generated promtool suites for the example specs", () => {
  for (const spec of Object.values(examples)) {
    for (const profile of profiles) {
      const rules = rulesYaml(spec, { profile });
      it.each(guardrailCases(spec, profile))(`${spec.name} (${profile}): $title`, ({ testFile }) => {
        const run = testRules({ "rules.yaml": rules, "case.yaml": testFile }, ["case.yaml"]);
        expect(run.ok, run.output).toBe(true);
      });
    }
  }
});
