/**
 * Zod's issues turned into sentences a person can act on: what was wrong, and what would be valid.
 *
 * Used as the error map of every spec parse (`schema.safeParse(value, { error: specIssueMessage })`).
 * Schemas that know their own rule better (name patterns, ranges with two bounds) carry their own
 * message and never reach this map; it covers everything else generically.
 */
import type { z } from "zod";
import { closestName, didYouMean } from "./closest-name.ts";

type RawIssue = z.core.$ZodRawIssue;

const MAX_SHOWN_TEXT = 60;

/** A short, quoted rendering of a value that was found where something else was expected. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") {
    const shown = value.length > MAX_SHOWN_TEXT ? `${value.slice(0, MAX_SHOWN_TEXT)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : `a list of ${value.length}`;
  if (typeof value === "object") return "a mapping";
  return `a ${typeof value}`;
}

/** `"a", "b" or "c"` */
export function listOptions(options: readonly unknown[]): string {
  const shown = options.map((option) => (typeof option === "string" ? `"${option}"` : String(option)));
  if (shown.length <= 1) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}`;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping of keys to values",
  record: "a mapping of names to entries",
  null: "null",
};

function expectedPhrase(expected: string): string {
  return EXPECTED[expected] ?? `a ${expected}`;
}

function got(issue: RawIssue): string {
  return `got ${describeValue(issue.input)}`;
}

function sizeOf(input: unknown): number | undefined {
  if (typeof input === "string" || Array.isArray(input)) return input.length;
  return undefined;
}

function boundMessage(
  issue: RawIssue,
  side: "min" | "max",
  bound: number | bigint,
  inclusive: boolean,
): string {
  const origin = "origin" in issue ? String(issue.origin) : "";
  const size = sizeOf(issue.input);
  if (origin === "string") {
    if (side === "min" && bound === 1) return "must not be empty";
    const noun = `${bound} characters`;
    return `must be ${side === "min" ? "at least" : "at most"} ${noun} long, got ${size ?? "?"}`;
  }
  if (origin === "array" || origin === "set") {
    if (side === "min" && bound === 1) return "must list at least one entry";
    return `must have ${side === "min" ? "at least" : "at most"} ${bound} entries, got ${size ?? "?"}`;
  }
  const relation =
    side === "min" ? (inclusive ? "at least" : "greater than") : inclusive ? "at most" : "less than";
  return `must be ${relation} ${bound}, ${got(issue)}`;
}

/** Known keys of the object schema that raised an `unrecognized_keys` issue. */
function knownKeys(issue: RawIssue): string[] {
  const inst = issue.inst as { _zod?: { def?: { shape?: unknown } } } | undefined;
  const shape = inst?._zod?.def?.shape;
  return shape !== null && typeof shape === "object" ? Object.keys(shape) : [];
}

function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  const knownList = known.length > 0 ? ` (known keys: ${known.join(", ")})` : "";
  const [only] = keys;
  if (keys.length === 1 && only !== undefined)
    return `unknown key "${only}"${didYouMean(only, known)}${knownList}`;
  const named = keys.map((key) => {
    const suggestion = closestName(key, known);
    return suggestion === undefined ? `"${key}"` : `"${key}" (did you mean "${suggestion}"?)`;
  });
  return `unknown keys ${named.join(", ")}${knownList}`;
}

/** The error map for spec parsing: a sentence for each kind of zod issue. */
export function specIssueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return `is required (${expectedPhrase(issue.expected)})`;
      return `must be ${expectedPhrase(issue.expected)}, ${got(issue)}`;
    case "too_small":
      return boundMessage(issue, "min", issue.minimum, issue.inclusive ?? false);
    case "too_big":
      return boundMessage(issue, "max", issue.maximum, issue.inclusive ?? false);
    case "invalid_value": {
      if (issue.values.length === 1) return `must be ${listOptions(issue.values)}, ${got(issue)}`;
      const options = issue.values.filter((value): value is string => typeof value === "string");
      const hint = typeof issue.input === "string" ? didYouMean(issue.input, options) : "";
      return `must be one of ${listOptions(issue.values)}, ${got(issue)}${hint}`;
    }
    case "unrecognized_keys":
      return unknownKeysMessage(issue.keys, knownKeys(issue));
    case "invalid_format":
      if (issue.format === "url") return `must be a valid URL, ${got(issue)}`;
      return `must match ${issue.pattern ?? issue.format}, ${got(issue)}`;
    case "invalid_key": {
      const reason = issue.issues[0]?.message ?? "not allowed";
      return `${describeValue(issue.input)} is not a valid name here: ${reason}`;
    }
    case "invalid_union":
      return `does not match any allowed form, ${got(issue)}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}, ${got(issue)}`;
    default:
      return undefined;
  }
}
