import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SpecError } from "../../spec/errors.ts";
import { parseSpec } from "../../spec/load.ts";
import { exampleInput } from "./spec-fixtures.ts";

type Path = (string | number)[];

/** Either a spec or a SpecError with at least one problem; any other outcome is a bug. */
function parsesOrExplains(value: unknown): boolean {
  try {
    parseSpec(value);
    return true;
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    return error.problems.length > 0 && error.problems.every((problem) => problem.message.length > 0);
  }
}

/** Every path to a field or list item in a JSON-like value. */
function paths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== "object") return [];
  const keys: (string | number)[] = Array.isArray(value)
    ? value.map((_item, index) => index)
    : Object.keys(value);
  return keys.flatMap((key) => {
    const child = (value as Record<string | number, unknown>)[key];
    return [[...prefix, key], ...paths(child, [...prefix, key])];
  });
}

const example = exampleInput();
const examplePaths = paths(example);

// A mutation deletes the field at a path or replaces it with an arbitrary JSON value.
const mutation = fc.record({
  path: fc.constantFrom(...examplePaths),
  replacement: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
});

function mutate(base: unknown, mutations: { path: Path; replacement: unknown }[]): unknown {
  const copy = structuredClone(base);
  for (const { path, replacement } of mutations) {
    let node: unknown = copy;
    for (const key of path.slice(0, -1)) {
      if (node === null || typeof node !== "object") break;
      node = (node as Record<string | number, unknown>)[key];
    }
    const last = path.at(-1);
    if (node === null || typeof node !== "object" || last === undefined) continue;
    const parent = node as Record<string | number, unknown>;
    if (replacement === undefined) delete parent[last];
    else parent[last] = replacement;
  }
  return copy;
}

describe("parsing never fails with anything but a SpecError", () => {
  it("accepts or explains arbitrary JSON values", () => {
    fc.assert(fc.property(fc.jsonValue(), parsesOrExplains), { numRuns: 500 });
  });

  it("accepts or explains the example with fields deleted or replaced by random JSON", () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) =>
        parsesOrExplains(mutate(example, mutations)),
      ),
      { numRuns: 500 },
    );
  });

  it("accepts or explains names that collide with Object.prototype", () => {
    const awkward = fc.constantFrom("constructor", "__proto__", "toString", "hasOwnProperty", "valueOf");
    fc.assert(
      fc.property(awkward, awkward, (deployment, variant) => {
        const value = mutate(example, [
          { path: ["variants", variant], replacement: { deployment } },
          { path: ["metrics", "guardrails", 0, "name"], replacement: variant },
        ]);
        return parsesOrExplains(value);
      }),
    );
  });

  it("explains a spec that contains itself, as YAML aliases can make it", () => {
    const cyclic = exampleInput();
    (cyclic.variants as Record<string, unknown>).loop = cyclic;
    expect(parsesOrExplains(cyclic)).toBe(true);
  });
});
