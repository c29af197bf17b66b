import { describe, expect, it } from "vitest";
import { closestName, levenshtein } from "../../spec/closest-name.ts";
import { formatPath, formatProblem, SpecError } from "../../spec/errors.ts";
import { describeValue, listOptions } from "../../spec/issue-messages.ts";

describe("formatPath", () => {
  it.each([
    [[], ""],
    [["name"], "name"],
    [["variants", "treatment", "deployment"], "variants.treatment.deployment"],
    [["metrics", "guardrails", 1, "action"], "metrics.guardrails[1].action"],
    [["deployments", "chat-8b", "endpoints", 0], "deployments.chat-8b.endpoints[0]"],
    [["deployments", "a.b", "image"], 'deployments["a.b"].image'],
    [[0, "x"], "[0].x"],
  ] as const)("writes %j as %s", (path, dotted) => {
    expect(formatPath(path)).toBe(dotted);
  });
});

describe("SpecError", () => {
  it("lists every problem under a count, naming the source", () => {
    const error = new SpecError(
      [
        { path: "rollout.treatmentPercent", message: "must be between 0 and 100, got 140" },
        { path: "", message: 'unknown key "x"' },
      ],
      "spec.yaml",
    );
    expect(error.name).toBe("SpecError");
    expect(error.message).toBe(
      'spec.yaml: 2 problems\n  rollout.treatmentPercent: must be between 0 and 100, got 140\n  unknown key "x"',
    );
  });

  it("reads naturally with one problem and no source", () => {
    expect(new SpecError([{ path: "name", message: "is required" }]).message).toBe(
      "experiment spec: 1 problem\n  name: is required",
    );
  });

  it("formats a problem about the whole document without a path", () => {
    expect(formatProblem({ path: "", message: "file not found" })).toBe("file not found");
    expect(formatProblem({ path: "unit", message: "is required" })).toBe("unit: is required");
  });
});

describe("closest names", () => {
  it.each([
    ["", "", 0],
    ["kitten", "sitting", 3],
    ["rollout", "rolout", 1],
    ["abc", "", 3],
  ])("levenshtein(%s, %s) is %i", (a, b, distance) => {
    expect(levenshtein(a, b)).toBe(distance);
    expect(levenshtein(b, a)).toBe(distance);
  });

  const known = ["temperature", "top_p", "max_tokens", "frequency_penalty"];
  it.each([
    ["tempurature", "temperature"],
    ["maxTokens", "max_tokens"],
    ["top-p", "top_p"],
    ["Temperature", "temperature"],
    ["frequency", undefined],
    ["zzz", undefined],
    ["x".repeat(500), undefined],
  ])("suggests %s → %s", (written, suggestion) => {
    expect(closestName(written, known)).toBe(suggestion);
  });
});

describe("describing values in messages", () => {
  it.each([
    [undefined, "nothing"],
    [null, "null"],
    ["chat-9b", '"chat-9b"'],
    [140, "140"],
    [Number.NaN, "NaN"],
    [true, "true"],
    [[], "an empty list"],
    [[1, 2], "a list of 2"],
    [{ a: 1 }, "a mapping"],
    ["x".repeat(70), `"${"x".repeat(60)}…"`],
  ])("describes %j as %s", (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  it("lists options the way a sentence does", () => {
    expect(listOptions(["pause", "rollback", "review"])).toBe('"pause", "rollback" or "review"');
    expect(listOptions([1])).toBe("1");
  });
});
