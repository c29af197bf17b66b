/**
 * Level 1: deterministic checks of one answer (contains, regex, length, JSON schema). They cost
 * nothing, never disagree with themselves, and catch the failures a judge should not have to: a
 * missing order number, a promised refund, a leaked system prompt, an answer that is not JSON.
 *
 * The JSON-Schema support is hand-written on purpose: no validator (ajv) is installed, and golden
 * checks need only a small subset (type, required, properties, enum, items, minLength/maxLength,
 * minimum/maximum, additionalProperties: false). Datasets are refused at load time when a schema uses
 * any other keyword (`jsonSchemaProblems`), so a schema is never silently checked more loosely than
 * it reads.
 */
import { canonicalJson } from "../spec/canonical-json.ts";
import { formatPath } from "../spec/errors.ts";
import type { Arm, Level1Check, Level1Result } from "./types.ts";

/** Keywords the hand-written validator understands; `title` and `description` are annotations only. */
export const JSON_SCHEMA_KEYWORDS = [
  "type",
  "required",
  "properties",
  "enum",
  "items",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "additionalProperties",
  "title",
  "description",
] as const;

const JSON_TYPES = ["string", "number", "integer", "boolean", "object", "array", "null"] as const;

/** A problem in a schema, at a path inside it (`properties.order_id.type`). */
export interface SchemaProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/** What is wrong with one keyword's value, or undefined when it is well-formed. */
function keywordProblem(keyword: string, value: unknown): string | undefined {
  switch (keyword) {
    case "type": {
      const names = Array.isArray(value) ? value : [value];
      const ok = names.length > 0 && names.every((name) => (JSON_TYPES as readonly unknown[]).includes(name));
      return ok ? undefined : `must be one of ${JSON_TYPES.join(", ")} (or a list of them)`;
    }
    case "required":
      return Array.isArray(value) && value.every((name) => typeof name === "string")
        ? undefined
        : "must be a list of property names";
    case "enum":
      return Array.isArray(value) && value.length > 0 ? undefined : "must be a non-empty list of values";
    case "minLength":
    case "maxLength":
      return isCount(value) ? undefined : "must be a whole number ≥ 0";
    case "minimum":
    case "maximum":
      return typeof value === "number" && Number.isFinite(value) ? undefined : "must be a number";
    case "additionalProperties":
      return value === false || value === true
        ? undefined
        : "must be true or false (schemas for extra properties are outside the supported subset)";
    case "title":
    case "description":
      return typeof value === "string" ? undefined : "must be a string";
    default:
      return undefined;
  }
}

/**
 * Everything in `schema` the hand-written validator cannot honour: unknown keywords (named, with
 * the supported list) and malformed values. Empty when the schema is usable.
 */
export function jsonSchemaProblems(schema: unknown, path: (string | number)[] = []): SchemaProblem[] {
  if (!isMapping(schema)) return [{ path, message: "must be a JSON-Schema mapping" }];
  const problems: SchemaProblem[] = [];
  for (const [keyword, value] of Object.entries(schema)) {
    if (!(JSON_SCHEMA_KEYWORDS as readonly string[]).includes(keyword)) {
      problems.push({
        path: [...path, keyword],
        message: `unsupported JSON-Schema keyword "${keyword}" (supported: ${JSON_SCHEMA_KEYWORDS.join(", ")})`,
      });
      continue;
    }
    if (keyword === "properties") {
      if (!isMapping(value)) problems.push({ path: [...path, keyword], message: "must be a mapping" });
      else
        for (const [name, child] of Object.entries(value))
          problems.push(...jsonSchemaProblems(child, [...path, keyword, name]));
      continue;
    }
    if (keyword === "items") {
      problems.push(...jsonSchemaProblems(value, [...path, keyword]));
      continue;
    }
    const problem = keywordProblem(keyword, value);
    if (problem !== undefined) problems.push({ path: [...path, keyword], message: problem });
  }
  return problems;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  if (type === "integer") return typeof value === "number" && Number.isInteger(value);
  return typeOf(value) === type;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Code points, not UTF-16 units, as JSON Schema counts them (and people do). */
function charCount(text: string): number {
  return [...text].length;
}

/** Where `value` breaks `schema`, as `$.path: message` lines; empty when it conforms. */
export function validateJsonSubset(value: unknown, schema: Record<string, unknown>, at = "$"): string[] {
  const errors: string[] = [];
  const { type } = schema;
  if (type !== undefined) {
    const types = (Array.isArray(type) ? type : [type]) as string[];
    if (!types.some((name) => hasType(value, name))) {
      errors.push(`${at}: must be ${types.join(" or ")}, got ${typeOf(value)} ${shown(value)}`);
      return errors;
    }
  }
  if (
    Array.isArray(schema.enum) &&
    !schema.enum.some((option) => canonicalJson(option) === canonicalJson(value))
  )
    errors.push(`${at}: must be one of ${schema.enum.map(shown).join(", ")}, got ${shown(value)}`);
  if (typeof value === "string") {
    const length = charCount(value);
    if (typeof schema.minLength === "number" && length < schema.minLength)
      errors.push(`${at}: must be at least ${schema.minLength} characters, got ${length}`);
    if (typeof schema.maxLength === "number" && length > schema.maxLength)
      errors.push(`${at}: must be at most ${schema.maxLength} characters, got ${length}`);
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum)
      errors.push(`${at}: must be ≥ ${schema.minimum}, got ${value}`);
    if (typeof schema.maximum === "number" && value > schema.maximum)
      errors.push(`${at}: must be ≤ ${schema.maximum}, got ${value}`);
  }
  if (Array.isArray(value) && isMapping(schema.items))
    value.forEach((item, index) => {
      errors.push(...validateJsonSubset(item, schema.items as Record<string, unknown>, `${at}[${index}]`));
    });
  if (isMapping(value)) {
    const properties = isMapping(schema.properties) ? schema.properties : {};
    if (Array.isArray(schema.required))
      for (const name of schema.required as string[])
        if (!Object.hasOwn(value, name)) errors.push(`${at}: missing required property "${name}"`);
    for (const [name, item] of Object.entries(value)) {
      const child = properties[name];
      if (isMapping(child)) errors.push(...validateJsonSubset(item, child, `${at}.${name}`));
      else if (schema.additionalProperties === false)
        errors.push(
          `${at}: unexpected property "${name}" (allowed: ${Object.keys(properties).join(", ") || "none"})`,
        );
    }
  }
  return errors;
}

/** A whole answer wrapped in a ``` or ```json fence counts as the JSON inside it. */
const FENCED = /^```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n?```$/i;

/** The answer parsed as JSON, or why it is not JSON. */
export function parseAnswerJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const trimmed = text.trim();
  const body = FENCED.exec(trimmed)?.[1] ?? trimmed;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (error) {
    return { ok: false, error: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** A readable name for a check, as reports list it: `contains "order #44129"`. */
export function checkLabel(check: Level1Check): string {
  switch (check.kind) {
    case "contains":
      return `contains ${JSON.stringify(check.text)}${check.caseSensitive ? " (case-sensitive)" : ""}`;
    case "notContains":
      return `does not contain ${JSON.stringify(check.text)}${check.caseSensitive ? " (case-sensitive)" : ""}`;
    case "regex":
      return `matches /${check.pattern}/${check.flags ?? ""}`;
    case "minLength":
      return `at least ${check.chars} characters`;
    case "maxLength":
      return `at most ${check.chars} characters`;
    case "jsonSchema":
      return "JSON matching the schema";
  }
}

/** Character index of `needle` in `haystack`, case-folded unless `caseSensitive`; -1 if absent. */
function find(haystack: string, needle: string, caseSensitive: boolean | undefined): number {
  return caseSensitive ? haystack.indexOf(needle) : haystack.toLowerCase().indexOf(needle.toLowerCase());
}

function excerpt(text: string, index: number, length: number): string {
  const start = Math.max(0, index - 20);
  const end = Math.min(text.length, index + length + 20);
  return `${start > 0 ? "…" : ""}${text.slice(start, end)}${end < text.length ? "…" : ""}`;
}

/** Passed, or failed with why. Throws on a check that could not have passed a dataset load. */
function evaluate(check: Level1Check, text: string): { passed: boolean; detail?: string } {
  switch (check.kind) {
    case "contains":
      return find(text, check.text, check.caseSensitive) >= 0
        ? { passed: true }
        : { passed: false, detail: "not found in the answer" };
    case "notContains": {
      const index = find(text, check.text, check.caseSensitive);
      if (index < 0) return { passed: true };
      const context = JSON.stringify(excerpt(text, index, check.text.length));
      return {
        passed: false,
        detail: `found at character ${charCount(text.slice(0, index)) + 1}: ${context}`,
      };
    }
    case "regex":
      // A fresh RegExp per answer: a `g` or `y` flag must not carry lastIndex between answers.
      return new RegExp(check.pattern, check.flags).test(text)
        ? { passed: true }
        : { passed: false, detail: "no match in the answer" };
    case "minLength": {
      const length = charCount(text);
      return length >= check.chars ? { passed: true } : { passed: false, detail: `${length} characters` };
    }
    case "maxLength": {
      const length = charCount(text);
      return length <= check.chars ? { passed: true } : { passed: false, detail: `${length} characters` };
    }
    case "jsonSchema": {
      const problems = jsonSchemaProblems(check.schema);
      if (problems.length > 0) {
        const [first] = problems;
        throw new Error(`invalid jsonSchema check: ${formatPath(first?.path ?? [])}: ${first?.message}`);
      }
      const parsed = parseAnswerJson(text);
      if (!parsed.ok) return { passed: false, detail: parsed.error };
      const errors = validateJsonSubset(parsed.value, check.schema);
      return errors.length === 0 ? { passed: true } : { passed: false, detail: errors.join("; ") };
    }
  }
}

/**
 * Every check on one answer, in order. A check that cannot run (a bad regex or schema that skipped
 * the dataset's validation) throws an Error naming the case: a broken check is a setup error, never
 * a failing answer.
 */
export function runLevel1(
  caseId: string,
  arm: Arm,
  text: string,
  checks: readonly Level1Check[],
): Level1Result[] {
  return checks.map((check) => {
    const label = checkLabel(check);
    let outcome: { passed: boolean; detail?: string };
    try {
      outcome = evaluate(check, text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`case "${caseId}": check ${label} cannot run: ${reason}`);
    }
    return outcome.passed
      ? { caseId, arm, check: label, passed: true }
      : { caseId, arm, check: label, passed: false, detail: outcome.detail ?? "failed" };
  });
}
