import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadRubric, parseRubric, RubricError, rubricHash } from "../../arena/rubric.ts";
import { formatProblem } from "../../spec/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "llm-ab-rubric-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const RUBRIC_YAML = `
name: support
instructions: Grade one reply.
axes:
  - name: clarity
    description: Can the customer act on it?
    anchors:
      1: Confusing
      3: Wordy
      5: Direct
  - name: policy_citation
    description: Does it cite the policy?
    anchors:
      1: No citation
      2: Alludes to a policy
      3: Vague mention
      4: Policy named
      5: Exact policy with link
`;

/** A rubric document (as parsed YAML) with `axes[0]` fields replaced. */
function withAxis(axis: Record<string, unknown>): unknown {
  return {
    name: "support",
    axes: [{ name: "clarity", description: "x", anchors: { 1: "a", 3: "b", 5: "c" }, ...axis }],
  };
}

/** The `path: message` lines of a rubric that must not parse. */
function problemsOf(value: unknown): string[] {
  try {
    parseRubric(value, "rubric.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(RubricError);
    return (error as RubricError).problems.map(formatProblem);
  }
  throw new Error("the rubric parsed");
}

describe("loading a rubric", () => {
  it("reads axes with anchors 1, 3 and 5, and 2 and 4 when given", async () => {
    const rubric = await loadRubric(file("ok.yaml", RUBRIC_YAML));
    expect(rubric.name).toBe("support");
    expect(rubric.instructions).toBe("Grade one reply.");
    expect(rubric.axes.map((axis) => axis.name)).toEqual(["clarity", "policy_citation"]);
    expect(rubric.axes[0]?.anchors).toEqual({
      1: "Confusing",
      2: undefined,
      3: "Wordy",
      4: undefined,
      5: "Direct",
    });
    expect(rubric.axes[1]?.anchors["4"]).toBe("Policy named");
  });

  it("hashes the meaning, not the layout: reordered keys hash alike, a changed anchor does not", async () => {
    const rubric = await loadRubric(file("a.yaml", RUBRIC_YAML));
    const reordered = {
      axes: rubric.axes.map((axis) => ({
        anchors: axis.anchors,
        description: axis.description,
        name: axis.name,
      })),
      instructions: rubric.instructions,
      name: rubric.name,
    };
    const fromJsonYaml = await loadRubric(file("b.yaml", stringify(reordered)));
    expect(rubricHash(fromJsonYaml)).toBe(rubricHash(rubric));
    const changed = await loadRubric(file("c.yaml", RUBRIC_YAML.replace("Direct", "Direct and short")));
    expect(rubricHash(changed)).not.toBe(rubricHash(rubric));
    expect(rubricHash(rubric)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("a rubric that cannot be used", () => {
  it.each([
    [
      "a missing anchor 3",
      withAxis({ anchors: { 1: "a", 5: "c" } }),
      ["axes[0].anchors.3: is required (a string)"],
    ],
    [
      "an anchor outside 1–5",
      withAxis({ anchors: { 1: "a", 3: "b", 5: "c", 6: "d" } }),
      ['axes[0].anchors: unknown score "6": anchors are keyed by the scores 1 to 5'],
    ],
    [
      "an axis name that is not snake_case",
      withAxis({ name: "Policy Citation" }),
      ['axes[0].name: must be a lowercase snake_case name, e.g. policy_citation, got "Policy Citation"'],
    ],
    ["a blank description", withAxis({ description: "  " }), ["axes[0].description: must not be empty"]],
    ["no axes", { name: "support", axes: [] }, ["axes: must list at least one entry"]],
    [
      "an unknown top-level key",
      { name: "support", axis: [] },
      [
        "axes: is required (a list)",
        'unknown key "axis"; did you mean "axes"? (known keys: name, instructions, axes)',
      ],
    ],
  ])("reports %s with its field path", (_name, value, expected) => {
    expect(problemsOf(value)).toEqual(expected);
  });

  it("reports a repeated axis name at the second occurrence", () => {
    const value = {
      name: "support",
      axes: [
        { name: "clarity", description: "x", anchors: { 1: "a", 3: "b", 5: "c" } },
        { name: "clarity", description: "y", anchors: { 1: "a", 3: "b", 5: "c" } },
      ],
    };
    expect(problemsOf(value)).toEqual(['axes[1].name: duplicate axis "clarity" (also axes[0])']);
  });

  it("names the file, the field and every problem in the error message", async () => {
    const path = file("bad.yaml", "name: support\naxes:\n  - name: Clarity\n    description: x\n");
    await expect(loadRubric(path)).rejects.toThrow(
      [
        `${path}: 2 problems`,
        '  axes[0].name: must be a lowercase snake_case name, e.g. policy_citation, got "Clarity"',
        "  axes[0].anchors: is required (a mapping of keys to values)",
      ].join("\n"),
    );
  });

  it("gives the line and column of a YAML syntax error", async () => {
    const path = file("syntax.yaml", "name: support\naxes: [\n  - name: x\n");
    const error = await loadRubric(path).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(RubricError);
    expect((error as RubricError).message).toMatch(
      new RegExp(`^${path}: \\d+ problems?\\n {2}YAML syntax error at line \\d+, column \\d+: `),
    );
  });

  it.each([
    ["an empty file", "empty.yaml", "", "the file is empty: expected a rubric mapping"],
    ["a missing file", "absent.yaml", undefined, "file not found"],
  ])("reports %s", async (_name, name, text, message) => {
    const path = text === undefined ? join(dir, name) : file(name, text);
    await expect(loadRubric(path)).rejects.toThrow(`${path}: 1 problem\n  ${message}`);
  });
});
