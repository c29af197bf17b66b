/**
 * Reading a spec that may be only partly valid.
 *
 * The cross-field checks run even when other fields failed their own schema, so that one run
 * reports every problem. They therefore see a draft: sections that parsed carry their defaults,
 * the rest are whatever the author wrote. Nothing about its shape can be assumed, and these
 * readers return undefined for anything that is not what the check needs (the schema reports that).
 */

/** A mapping read from the draft (never an array, never null). */
export type Draft = { readonly [key: string]: unknown };

/** A problem found by a cross-field check: a zod-style path and the sentence for it. */
export interface DraftProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

/** The value as a mapping, or undefined. */
export function asDraft(value: unknown): Draft | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Draft) : undefined;
}

/** An own field of a mapping (never one inherited from Object.prototype, such as `constructor`). */
export function field(draft: Draft | undefined, key: string): unknown {
  return draft !== undefined && Object.hasOwn(draft, key) ? draft[key] : undefined;
}

/** A field that is a mapping. */
export function draftAt(draft: Draft | undefined, key: string): Draft | undefined {
  return asDraft(field(draft, key));
}

/** A finite number field. */
export function numberAt(draft: Draft | undefined, key: string): number | undefined {
  const value = field(draft, key);
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A string field. */
export function stringAt(draft: Draft | undefined, key: string): string | undefined {
  const value = field(draft, key);
  return typeof value === "string" ? value : undefined;
}

/** A field that is one of `options`. */
export function oneOfAt<T extends string>(
  draft: Draft | undefined,
  key: string,
  options: readonly T[],
): T | undefined {
  const value = field(draft, key);
  return typeof value === "string" && (options as readonly string[]).includes(value)
    ? (value as T)
    : undefined;
}

/** `[key, entry]` for each entry of a mapping field whose value is itself a mapping. */
export function entriesAt(draft: Draft | undefined, key: string): [string, Draft][] {
  const record = draftAt(draft, key);
  if (record === undefined) return [];
  const out: [string, Draft][] = [];
  for (const [name, value] of Object.entries(record)) {
    const entry = asDraft(value);
    if (entry !== undefined) out.push([name, entry]);
  }
  return out;
}

/** `[index, item]` for each item of a list field that is a mapping. */
export function itemsAt(draft: Draft | undefined, key: string): [number, Draft][] {
  const list = field(draft, key);
  if (!Array.isArray(list)) return [];
  const out: [number, Draft][] = [];
  list.forEach((value: unknown, index) => {
    const item = asDraft(value);
    if (item !== undefined) out.push([index, item]);
  });
  return out;
}

/** A list field of finite numbers, or undefined when it is not entirely one. */
export function numbersAt(draft: Draft | undefined, key: string): number[] | undefined {
  const list = field(draft, key);
  if (!Array.isArray(list)) return undefined;
  return list.every((item) => typeof item === "number" && Number.isFinite(item))
    ? (list as number[])
    : undefined;
}

/** A list field of strings, or undefined when it is not entirely one. */
export function stringsAt(draft: Draft | undefined, key: string): string[] | undefined {
  const list = field(draft, key);
  if (!Array.isArray(list)) return undefined;
  return list.every((item) => typeof item === "string") ? (list as string[]) : undefined;
}
