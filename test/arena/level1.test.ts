import { describe, expect, it } from "vitest";
import {
  checkLabel,
  jsonSchemaProblems,
  parseAnswerJson,
  runLevel1,
  validateJsonSubset,
} from "../../arena/level1.ts";
import type { Level1Check } from "../../arena/types.ts";

const ANSWER =
  "Hi Priya, order #44129 shows one charge and one pending hold, which drops off in 3–5 business days (Billing Policy §1).";

/** The one result of running `check` on `text`. */
function run(check: Level1Check, text = ANSWER) {
  const [result] = runLevel1("double-charge-44129", "treatment", text, [check]);
  return result;
}

describe("Level-1 text checks", () => {
  it.each<[string, Level1Check, boolean]>([
    ["finds text regardless of case", { kind: "contains", text: "ORDER #44129" }, true],
    ["misses text that is absent", { kind: "contains", text: "refund" }, false],
    ["respects caseSensitive", { kind: "contains", text: "billing policy", caseSensitive: true }, false],
    [
      "passes notContains when the text is absent",
      { kind: "notContains", text: "refund has been issued" },
      true,
    ],
    ["fails notContains regardless of case", { kind: "notContains", text: "PENDING HOLD" }, false],
    [
      "passes a case-sensitive notContains on a different case",
      { kind: "notContains", text: "PENDING HOLD", caseSensitive: true },
      true,
    ],
    ["matches a regex", { kind: "regex", pattern: "\\b(hold|authori[sz]ation)\\b" }, true],
    ["applies regex flags", { kind: "regex", pattern: "^hi priya", flags: "i" }, true],
    ["fails a regex without the flag", { kind: "regex", pattern: "^hi priya" }, false],
  ])("%s", (_name, check, passed) => {
    expect(run(check)?.passed).toBe(passed);
  });

  it("counts characters as code points, so an emoji is one character", () => {
    const text = "ok 👍";
    expect(run({ kind: "maxLength", chars: 4 }, text)?.passed).toBe(true);
    expect(run({ kind: "minLength", chars: 5 }, text)).toMatchObject({
      passed: false,
      detail: "4 characters",
    });
  });

  it.each<[Level1Check, number, boolean]>([
    [{ kind: "minLength", chars: 10 }, 10, true],
    [{ kind: "minLength", chars: 10 }, 9, false],
    [{ kind: "maxLength", chars: 10 }, 10, true],
    [{ kind: "maxLength", chars: 10 }, 11, false],
  ])("checks %j on an answer of %i characters: passed = %s", (check, length, passed) => {
    expect(run(check, "x".repeat(length))?.passed).toBe(passed);
  });

  it("says where a forbidden text was found", () => {
    expect(run({ kind: "notContains", text: "pending hold" })).toEqual({
      caseId: "double-charge-44129",
      arm: "treatment",
      check: 'does not contain "pending hold"',
      passed: false,
      detail: 'found at character 49: "… one charge and one pending hold, which drops off in…"',
    });
  });

  it("runs a global regex afresh on every answer (no lastIndex carried over)", () => {
    const check: Level1Check = { kind: "regex", pattern: "hold", flags: "g" };
    const results = runLevel1("c", "control", ANSWER, [check, check, check]);
    expect(results.map((result) => result.passed)).toEqual([true, true, true]);
  });

  it("returns one result per check, in order, with the case and arm", () => {
    const results = runLevel1("c1", "control", ANSWER, [
      { kind: "contains", text: "44129" },
      { kind: "maxLength", chars: 20 },
    ]);
    expect(results).toEqual([
      { caseId: "c1", arm: "control", check: 'contains "44129"', passed: true },
      {
        caseId: "c1",
        arm: "control",
        check: "at most 20 characters",
        passed: false,
        detail: `${ANSWER.length} characters`,
      },
    ]);
  });
});

describe("check labels", () => {
  it.each<[Level1Check, string]>([
    [{ kind: "contains", text: "order #44129" }, 'contains "order #44129"'],
    [{ kind: "contains", text: "Dana", caseSensitive: true }, 'contains "Dana" (case-sensitive)'],
    [{ kind: "notContains", text: "Be helpful." }, 'does not contain "Be helpful."'],
    [{ kind: "regex", pattern: "refund\\b", flags: "i" }, "matches /refund\\b/i"],
    [{ kind: "minLength", chars: 40 }, "at least 40 characters"],
    [{ kind: "maxLength", chars: 1200 }, "at most 1200 characters"],
    [{ kind: "jsonSchema", schema: { type: "object" } }, "JSON matching the schema"],
  ])("labels %j as %s", (check, label) => {
    expect(checkLabel(check)).toBe(label);
  });
});

const STATUS_SCHEMA = {
  type: "object",
  required: ["order", "status"],
  properties: {
    order: { type: "string", minLength: 5, maxLength: 6 },
    status: { type: "string", enum: ["pending", "shipped"] },
    items: { type: "array", items: { type: "integer", minimum: 1, maximum: 10 } },
  },
  additionalProperties: false,
};

describe("the JSON-Schema subset", () => {
  it.each<[string, unknown, string[]]>([
    ["a conforming object", { order: "52031", status: "shipped", items: [1, 2] }, []],
    ["a wrong root type", [1], ["$: must be object, got array [1]"]],
    ["a missing required property", { order: "52031" }, ['$: missing required property "status"']],
    [
      "a value outside the enum",
      { order: "52031", status: "lost" },
      ['$.status: must be one of "pending", "shipped", got "lost"'],
    ],
    ["string lengths", { order: "1", status: "pending" }, ["$.order: must be at least 5 characters, got 1"]],
    [
      "array items: integer type and bounds",
      { order: "52031", status: "pending", items: [0, 1.5, 11] },
      [
        "$.items[0]: must be ≥ 1, got 0",
        "$.items[1]: must be integer, got number 1.5",
        "$.items[2]: must be ≤ 10, got 11",
      ],
    ],
    [
      "an extra property under additionalProperties: false",
      { order: "52031", status: "pending", note: "x" },
      ['$: unexpected property "note" (allowed: order, status, items)'],
    ],
  ])("validates %s", (_name, value, errors) => {
    expect(validateJsonSubset(value, STATUS_SCHEMA)).toEqual(errors);
  });

  it("accepts a list of types and compares enum values structurally", () => {
    const schema = { type: ["string", "null"], enum: [null, "a"] };
    expect(validateJsonSubset(null, schema)).toEqual([]);
    expect(validateJsonSubset({ a: 1 }, { enum: [{ a: 1 }] })).toEqual([]);
    expect(validateJsonSubset(3, schema)).toEqual(["$: must be string or null, got number 3"]);
  });

  it("lists every keyword outside the subset, with its path, and malformed values", () => {
    expect(
      jsonSchemaProblems({
        type: "object",
        oneOf: [],
        properties: { a: { type: "string", pattern: "^x" }, b: { minimum: "1" } },
        items: { $ref: "#/x" },
        additionalProperties: { type: "string" },
      }).map((problem) => [problem.path.join("."), problem.message.split(" (")[0]]),
    ).toEqual([
      ["oneOf", 'unsupported JSON-Schema keyword "oneOf"'],
      ["properties.a.pattern", 'unsupported JSON-Schema keyword "pattern"'],
      ["properties.b.minimum", "must be a number"],
      ["items.$ref", 'unsupported JSON-Schema keyword "$ref"'],
      ["additionalProperties", "must be true or false"],
    ]);
    expect(jsonSchemaProblems(STATUS_SCHEMA)).toEqual([]);
  });

  it("parses a whole answer wrapped in a ```json fence, and refuses prose", () => {
    expect(parseAnswerJson('```json\n{"order": "52031"}\n```')).toEqual({
      ok: true,
      value: { order: "52031" },
    });
    expect(parseAnswerJson("  ```\n[1, 2]\n```  ")).toEqual({ ok: true, value: [1, 2] });
    expect(parseAnswerJson('Sure! {"order": "52031"}').ok).toBe(false);
  });

  it("passes a jsonSchema check on fenced JSON and fails it with the reasons", () => {
    const check: Level1Check = { kind: "jsonSchema", schema: STATUS_SCHEMA };
    expect(run(check, '```json\n{"order": "52031", "status": "shipped"}\n```')?.passed).toBe(true);
    expect(run(check, '{"order": 52031, "status": "lost"}')).toMatchObject({
      passed: false,
      detail:
        '$.order: must be string, got number 52031; $.status: must be one of "pending", "shipped", got "lost"',
    });
    expect(run(check, "Your order has shipped.")?.detail).toMatch(/^not JSON: /);
  });

  it("throws, naming the case, on a schema that skipped the dataset's validation", () => {
    expect(() => run({ kind: "jsonSchema", schema: { type: "object", format: "email" } })).toThrow(
      'case "double-charge-44129": check JSON matching the schema cannot run: invalid jsonSchema check: format: unsupported JSON-Schema keyword "format"',
    );
  });
});
