/**
 * JSON with object keys sorted at every level, so equal values always serialize to equal text:
 * the basis of `specHash`, and of comparing two variants regardless of the order keys were written.
 */

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Canonical JSON text of a JSON-like value: keys sorted by code unit (not locale, which varies by
 * machine), `undefined` fields dropped as JSON.stringify does. Throws TypeError on a cycle.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (!isPlainObject(item)) return item;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(item).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      Object.defineProperty(sorted, key, {
        value: item[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return sorted;
  });
}
