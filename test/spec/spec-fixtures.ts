/** Shared inputs for the spec tests: the example specs as plain values, and patching them by path. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { parse } from "yaml";
import type { SpecProblem } from "../../spec/errors.ts";
import { safeParseSpec } from "../../spec/load.ts";

export const examplePaths = {
  promptDuel: fileURLToPath(new URL("../../examples/support-bot-policy-prompt.yaml", import.meta.url)),
  modelSwap: fileURLToPath(new URL("../../examples/model-swap-70b.yaml", import.meta.url)),
} as const;

export type JsonObject = { [key: string]: unknown };

/** An example spec as the plain value a YAML parser gives (a fresh copy each call). */
export function exampleInput(which: keyof typeof examplePaths = "promptDuel"): JsonObject {
  return parse(readFileSync(examplePaths[which], "utf8")) as JsonObject;
}

/** Marks a patch that deletes the field instead of setting it. */
export const DELETE = Symbol("delete");

/** `[path, value]`: set the field at `path` (creating mappings on the way), or delete it. */
export type Patch = readonly [path: readonly (string | number)[], value: unknown];

/** A copy of `base` with each patch applied in order. */
export function patched(base: unknown, patches: readonly Patch[]): unknown {
  const copy = structuredClone(base);
  for (const [path, value] of patches) {
    let node = copy as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === null || typeof next !== "object") node[key] = {};
      node = node[key] as Record<string | number, unknown>;
    }
    const last = path.at(-1);
    if (last === undefined) throw new Error("a patch needs a non-empty path");
    if (value === DELETE) delete node[last];
    else node[last] = value;
  }
  return copy;
}

/** A table row: patches that break the prompt-duel example, and the problem that must result. */
export interface InvalidCase {
  /** The behaviour, as a sentence. */
  readonly name: string;
  readonly patches: readonly Patch[];
  /** The dotted path the problem must carry. */
  readonly path: string;
  /** Fragments the message must contain: what was wrong, and what would be valid. */
  readonly says: readonly string[];
}

/** Asserts that the patched example fails with a problem at the case's path saying each fragment. */
export function expectInvalid({ patches, path, says }: InvalidCase): void {
  const result = safeParseSpec(patched(exampleInput(), patches));
  expect(result.ok).toBe(false);
  if (result.ok) return;
  const atPath = result.problems.filter((problem) => problem.path === path);
  expect(atPath, JSON.stringify(result.problems, null, 2)).not.toHaveLength(0);
  const messages = atPath.map((problem) => problem.message).join("\n");
  for (const fragment of says) expect(messages).toContain(fragment);
}

/** The problems of the patched example; a valid variation gives none. */
export function problemsOf(patches: readonly Patch[]): readonly SpecProblem[] {
  const result = safeParseSpec(patched(exampleInput(), patches));
  return result.ok ? [] : result.problems;
}
