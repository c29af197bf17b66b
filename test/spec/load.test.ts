import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { SpecError } from "../../spec/errors.ts";
import { loadSpecFile, parseSpec, safeParseSpec, specHash } from "../../spec/load.ts";
import { exampleInput, examplePaths, patched } from "./spec-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "llm-ab-spec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The SpecError a load throws (fails the test if it resolves). */
async function loadError(path: string): Promise<SpecError> {
  const error = await loadSpecFile(path).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SpecError);
  return error as SpecError;
}

/** The same value with the keys of every mapping in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, item]) => [key, reverseKeys(item)]),
  );
}

describe("loading a spec", () => {
  it("reads YAML, .yml, JSON and a plain value into the same spec", async () => {
    const input = exampleInput();
    const fromYaml = await loadSpecFile(examplePaths.promptDuel);
    expect(await loadSpecFile(file("spec.yml", stringify(input)))).toEqual(fromYaml);
    expect(await loadSpecFile(file("spec.json", JSON.stringify(input, null, 2)))).toEqual(fromYaml);
    expect(parseSpec(input)).toEqual(fromYaml);
  });

  it("throws a SpecError with every problem and the source in its message", () => {
    const broken = patched(exampleInput(), [
      [["rollout", "treatmentPercent"], 140],
      [["variants", "treatment", "deployment"], "chat-9b"],
    ]);
    expect(() => parseSpec(broken, "Pulumi config")).toThrow(SpecError);
    try {
      parseSpec(broken, "Pulumi config");
    } catch (error) {
      const specError = error as SpecError;
      expect(specError.source).toBe("Pulumi config");
      expect(specError.problems).toHaveLength(2);
      expect(specError.message).toBe(
        [
          "Pulumi config: 2 problems",
          "  rollout.treatmentPercent: must be between 0 and 100, got 140",
          '  variants.treatment.deployment: unknown deployment "chat-9b"; did you mean "chat-8b"? (known: chat-8b)',
        ].join("\n"),
      );
    }
  });

  it("returns problems instead of throwing from safeParseSpec", () => {
    expect(safeParseSpec(exampleInput()).ok).toBe(true);
    expect(safeParseSpec("name: x")).toEqual({
      ok: false,
      problems: [{ path: "", message: 'must be a mapping of keys to values, got "name: x"' }],
    });
  });

  it.each([
    ["an unclosed flow sequence", "name: a\nunit: [user\nrollout: {}\n", 3, 1],
    ["a key written twice", "name: a\nhypothesis: h\nname: b\n", 3, 1],
    ["a misaligned mapping", "name: a\nrollout:\n  mode: ab\n treatmentPercent: 5\n", 4, 1],
    ["an unterminated quote, at the end of the text", "name: 'a\nunit: user\n", 3, 1],
  ])("names the line and column of a YAML syntax error: %s", async (_what, text, line, column) => {
    const error = await loadError(file("broken.yaml", text));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.path).toBe("");
    expect(error.problems[0]?.message).toContain(`YAML syntax error at line ${line}, column ${column}:`);
    expect(error.message).toContain("broken.yaml");
  });

  it("reports a JSON syntax error on one line", async () => {
    const error = await loadError(file("broken.json", '{\n  "name": "x",\n  "unit": \n}'));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.message).toMatch(/^JSON syntax error/);
    expect(error.problems[0]?.message).not.toContain("\n");
  });

  it("says so when the file does not exist", async () => {
    const missing = join(dir, "missing.yaml");
    const error = await loadError(missing);
    expect(error.source).toBe(missing);
    expect(error.problems).toEqual([{ path: "", message: "file not found" }]);
  });

  it("says so when the file is empty", async () => {
    const error = await loadError(file("empty.yaml", "# nothing yet\n"));
    expect(error.problems[0]?.message).toContain("the file is empty");
  });

  it("refuses extensions it cannot read", async () => {
    const error = await loadError(file("spec.toml", 'name = "x"'));
    expect(error.problems[0]?.message).toBe("unsupported file extension: use .yaml, .yml or .json");
  });
});

describe("specHash", () => {
  const spec = parseSpec(exampleInput());

  it("is a sha256 hex digest", () => {
    expect(specHash(spec)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("does not depend on the order keys were written in", () => {
    expect(specHash(parseSpec(reverseKeys(exampleInput())))).toBe(specHash(spec));
  });

  it("does not depend on whether defaults were written out", () => {
    const spelled = patched(exampleInput(), [
      [["hashVersion"], 1],
      [["analysis", "srmThreshold"], 0.001],
      [["variants", "control", "systemPromptMode"], "replace"],
      [["router", "store"], "memory"],
    ]);
    expect(specHash(parseSpec(spelled))).toBe(specHash(spec));
  });

  it.each([
    ["the treatment percent", [["rollout", "treatmentPercent"], 20]],
    ["the salt", [["salt"], "support-bot-policy-prompt-v2"]],
    ["a guardrail threshold", [["metrics", "guardrails", 1, "max"], 0.002]],
  ] as const)("changes when %s changes", (_what, patch) => {
    expect(specHash(parseSpec(patched(exampleInput(), [patch])))).not.toBe(specHash(spec));
  });
});
