/**
 * Rules of a three-arm spec and of a bandit spec under Debian's promtool: `check rules`, the
 * hand-written suites with a spec of their own (promtool-suites.ts), and the generated guardrail
 * suites (guardrail-cases.ts), in which every treatment breaches and each gets its own alert.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { rulesYaml } from "../../monitoring/rules.ts";
import { loadSpecFile } from "../../spec/load.ts";
import { checkRules, testRules } from "../helpers/promtool.ts";
import { guardrailCases } from "./guardrail-cases.ts";
import { specSuites } from "./promtool-suites.ts";

const suiteDir = fileURLToPath(new URL("./promtool/", import.meta.url));
const specs = {
  threeArms: await loadSpecFile(`${suiteDir}three-arms-spec.yaml`),
  bandit: await loadSpecFile(`${suiteDir}bandit-spec.yaml`),
};
const profiles = ["production", "local"] as const;
const renderings = Object.values(specs).flatMap((spec) =>
  profiles.map((profile) => ({ name: `${spec.name} (${profile})`, spec, profile })),
);

describe("promtool check rules on A/B/n and bandit specs", () => {
  it.each(renderings)("passes on the rules of $name, with every lint fatal", ({ spec, profile }) => {
    const run = checkRules({ "rules.yaml": rulesYaml(spec, { profile }) });
    expect(run.output).toContain("SUCCESS");
    expect(run.ok, run.output).toBe(true);
  });
});

describe("hand-written promtool suites with a spec of their own", () => {
  it.each(specSuites)("$file shows that $shows", async ({ file, spec }) => {
    const rules = rulesYaml(await loadSpecFile(`${suiteDir}${spec}`));
    const run = testRules({ "rules.yaml": rules, [file]: readFileSync(`${suiteDir}${file}`, "utf8") }, [
      file,
    ]);
    expect(run.ok, run.output).toBe(true);
  });
});

describe("generated guardrail suites: every treatment breaching gets an alert of its own", () => {
  for (const spec of Object.values(specs)) {
    for (const profile of profiles) {
      const rules = rulesYaml(spec, { profile });
      it.each(guardrailCases(spec, profile))(`${spec.name} (${profile}): $title`, ({ testFile }) => {
        const run = testRules({ "rules.yaml": rules, "case.yaml": testFile }, ["case.yaml"]);
        expect(run.ok, run.output).toBe(true);
      });
    }
  }
});
