import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DatasetError,
  datasetHash,
  formatDatasetProblem,
  loadDataset,
  parseDataset,
} from "../../arena/dataset.ts";

const dir = mkdtempSync(join(tmpdir(), "llm-ab-dataset-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const ask = (content: string) => [{ role: "user", content }];

/** A valid case line, with `extra` fields merged over it. */
function line(id: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ id, messages: ask("Where is my order #44129?"), ...extra });
}

/** The problems of a dataset that must not load, as `file:line: field: message` lines. */
function problemsOf(text: string): string[] {
  try {
    parseDataset(text, "golden.jsonl");
  } catch (error) {
    expect(error).toBeInstanceOf(DatasetError);
    const { problems, source } = error as DatasetError;
    return problems.map((problem) => formatDatasetProblem(problem, source));
  }
  throw new Error("the dataset loaded");
}

describe("loading a golden dataset", () => {
  it("reads one case per line, skipping blank lines, with tags and checks defaulting to empty", async () => {
    const text = [
      line("late-package", {
        context: "Order #52031 shipped 8 days ago.",
        reference: "We open a carrier trace (Shipping Policy §2).",
        tags: ["shipping", "critical"],
        checks: [{ kind: "contains", text: "52031" }],
      }),
      "",
      "   ",
      line("double-charge"),
      "",
    ].join("\n");
    const { cases } = await loadDataset(file("ok.jsonl", text));
    expect(cases).toEqual([
      {
        id: "late-package",
        messages: ask("Where is my order #44129?"),
        context: "Order #52031 shipped 8 days ago.",
        reference: "We open a carrier trace (Shipping Policy §2).",
        tags: ["shipping", "critical"],
        checks: [{ kind: "contains", text: "52031" }],
      },
      { id: "double-charge", messages: ask("Where is my order #44129?"), tags: [], checks: [] },
    ]);
  });

  it("hashes the parsed cases, so reformatting the file (key order, spacing, CRLF) keeps the hash", () => {
    const compact = `${line("a", { tags: ["x"] })}\n${line("b")}\n`;
    const loose = [
      JSON.stringify({ tags: ["x"], messages: ask("Where is my order #44129?"), id: "a" }, null, 0),
      "",
      `  ${JSON.stringify({ checks: [], id: "b", messages: ask("Where is my order #44129?") })}  `,
    ].join("\r\n");
    const first = parseDataset(compact, "a.jsonl");
    expect(parseDataset(loose, "b.jsonl").hash).toBe(first.hash);
    expect(first.hash).toBe(datasetHash(first.cases));
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("changes the hash when a case changes", () => {
    const before = parseDataset(line("a"), "a.jsonl").hash;
    expect(parseDataset(line("a", { tags: ["critical"] }), "a.jsonl").hash).not.toBe(before);
  });

  it("accepts a byte-order mark at the start of the file", () => {
    expect(parseDataset(`\uFEFF${line("a")}`, "a.jsonl").cases).toHaveLength(1);
  });
});

describe("a dataset that cannot be used", () => {
  it.each([
    [
      "a duplicate id, naming both lines",
      [line("a"), line("b"), line("a")],
      ['golden.jsonl:3: id: duplicate id "a" (first used on line 1)'],
    ],
    [
      "messages that end with the assistant's turn",
      [line("a", { messages: [...ask("Hi"), { role: "assistant", content: "Hello!" }] })],
      [
        'golden.jsonl:1: messages: must end with a user turn (the answer is the reply to it), but the last message is from "assistant"',
      ],
    ],
    [
      "an unknown key, with a suggestion",
      [line("a", { refrence: "x" })],
      [
        'golden.jsonl:1: unknown key "refrence"; did you mean "reference"? (known keys: id, messages, context, reference, tags, checks)',
      ],
    ],
    [
      "a regex that does not compile",
      [line("a", { checks: [{ kind: "regex", pattern: "(order" }] })],
      [
        "golden.jsonl:1: checks[0].pattern: is not a valid regular expression: Invalid regular expression: /(order/: Unterminated group",
      ],
    ],
    [
      "repeated regex flags",
      [line("a", { checks: [{ kind: "regex", pattern: "x", flags: "ii" }] })],
      [
        'golden.jsonl:1: checks[0].flags: must be distinct regular-expression flags (d g i m s u v y), got "ii"',
      ],
    ],
    [
      "a misspelt check kind",
      [line("a", { checks: [{ kind: "contain", text: "x" }] })],
      [
        'golden.jsonl:1: checks[0].kind: must be one of "contains", "notContains", "regex", "minLength", "maxLength" or "jsonSchema", got "contain"; did you mean "contains"?',
      ],
    ],
    [
      "a check without a kind",
      [line("a", { checks: [{ text: "x" }] })],
      [
        'golden.jsonl:1: checks[0].kind: is required (one of "contains", "notContains", "regex", "minLength", "maxLength" or "jsonSchema")',
      ],
    ],
    [
      "a JSON-Schema keyword outside the supported subset",
      [line("a", { checks: [{ kind: "jsonSchema", schema: { type: "object", patternProperties: {} } }] })],
      [
        'golden.jsonl:1: checks[0].schema.patternProperties: unsupported JSON-Schema keyword "patternProperties" (supported: type, required, properties, enum, items, minLength, maxLength, minimum, maximum, additionalProperties, title, description)',
      ],
    ],
    [
      "a nested schema with an unknown type",
      [
        line("a", {
          checks: [{ kind: "jsonSchema", schema: { properties: { order: { type: "text" } } } }],
        }),
      ],
      [
        "golden.jsonl:1: checks[0].schema.properties.order.type: must be one of string, number, integer, boolean, object, array, null (or a list of them)",
      ],
    ],
    [
      "a tag that is not lowercase",
      [line("a", { tags: ["Critical"] })],
      ['golden.jsonl:1: tags[0]: must be lowercase letters, digits, dashes or underscores, got "Critical"'],
    ],
    [
      "a line that is not an object",
      [line("a"), "[1, 2]"],
      ["golden.jsonl:2: must be a mapping of keys to values, got a list of 2"],
    ],
    [
      "a missing id and empty messages",
      [JSON.stringify({ messages: [] })],
      [
        "golden.jsonl:1: id: is required (a string)",
        "golden.jsonl:1: messages: must list at least one entry",
      ],
    ],
    [
      "an empty file",
      ["", "  "],
      ["golden.jsonl: the file holds no cases (expected one JSON object per line)"],
    ],
  ])("reports %s", (_name, lines, expected) => {
    expect(problemsOf(lines.join("\n"))).toEqual(expected);
  });

  it.each([
    ["a trailing comma", '{"id": "a", "messages": [],}', 28, "Expected double-quoted property name"],
    ["an unquoted word", '{"id": "a", "messages": nul}', 28, "Unexpected token '}'"],
    ["a missing closing brace", '{"id": "a"', 11, "Expected ',' or '}' after property value"],
  ])("names the line and column of invalid JSON: %s", (_name, bad, column, reason) => {
    expect(problemsOf(`${line("ok")}\n${bad}`)).toEqual([
      `golden.jsonl:2: invalid JSON at column ${column}: ${reason}`,
    ]);
  });

  it("collects every problem in the file, not only the first", () => {
    const text = [
      "{oops",
      line("a", { tags: [1] }),
      line("b", { checks: [{ kind: "minLength", chars: -1 }] }),
      line("a"),
    ].join("\n");
    const problems = problemsOf(text);
    expect(problems).toHaveLength(4);
    expect(problems.map((problem) => problem.split(":")[1])).toEqual(["1", "2", "3", "4"]);
  });

  it("reports a repeated id even when the repeating line has other problems", () => {
    expect(problemsOf([line("a"), line("a", { tags: ["Bad"] })].join("\n"))).toEqual([
      'golden.jsonl:2: id: duplicate id "a" (first used on line 1)',
      'golden.jsonl:2: tags[0]: must be lowercase letters, digits, dashes or underscores, got "Bad"',
    ]);
  });

  it("says what to fix in the error message, with the file and a count", () => {
    const error = (() => {
      try {
        parseDataset([line("a"), line("a")].join("\n"), "golden.jsonl");
      } catch (thrown) {
        return thrown as DatasetError;
      }
      throw new Error("the dataset loaded");
    })();
    expect(error.name).toBe("DatasetError");
    expect(error.message).toBe(
      'golden.jsonl: 1 problem\n  golden.jsonl:2: id: duplicate id "a" (first used on line 1)',
    );
  });

  it("reports a missing file as a DatasetError naming it", async () => {
    const path = join(dir, "absent.jsonl");
    await expect(loadDataset(path)).rejects.toThrow(`${path}: 1 problem\n  ${path}: file not found`);
  });
});
