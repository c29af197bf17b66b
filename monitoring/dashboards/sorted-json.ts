/**
 * JSON text with object keys sorted at every level, so the same dashboard always serializes to the
 * same bytes and a re-render shows no diff that is not a change (`pulumi preview`, code review).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The value as JSON.stringify would see it: functions and undefined fields dropped, `toJSON` applied. */
function plain(value: unknown): Json | undefined {
  if (value === null) return null;
  if (typeof value === "object" && "toJSON" in value && typeof value.toJSON === "function") {
    return plain(value.toJSON());
  }
  switch (typeof value) {
    case "boolean":
    case "string":
      return value;
    case "number":
      // JSON has no NaN or Infinity; JSON.stringify writes them as null, and so do we.
      return Number.isFinite(value) ? value : null;
    case "object": {
      if (Array.isArray(value)) return value.map((item) => plain(item) ?? null);
      const out: { [key: string]: Json } = {};
      for (const [key, item] of Object.entries(value)) {
        const converted = plain(item);
        if (converted !== undefined) out[key] = converted;
      }
      return out;
    }
    default:
      return undefined;
  }
}

function write(value: Json, indent: string, depth: number): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const inner = `\n${indent.repeat(depth + 1)}`;
  const outer = `\n${indent.repeat(depth)}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[${value.map((item) => inner + write(item, indent, depth + 1)).join(",")}${outer}]`;
  }
  // Sorting the keys here, not by building a sorted object: JavaScript enumerates integer-like keys
  // ("2", "10") in numeric order whatever the insertion order, which would break the sort.
  const keys = Object.keys(value).sort(byCodeUnit);
  if (keys.length === 0) return "{}";
  const fields = keys.map(
    (key) => `${inner}${JSON.stringify(key)}: ${write(value[key] ?? null, indent, depth + 1)}`,
  );
  return `{${fields.join(",")}${outer}}`;
}

/**
 * Pretty-printed JSON (two-space indent, trailing newline) with keys sorted by code unit at every
 * level, never by locale, which differs between machines.
 */
export function sortedJson(value: unknown): string {
  const converted = plain(value);
  if (converted === undefined) throw new TypeError("sortedJson: the value has no JSON form");
  return `${write(converted, "  ", 0)}\n`;
}
