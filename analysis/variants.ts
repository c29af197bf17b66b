/** Which variant is control and which are treatments, as the analysis reads a spec. */
import type { ExperimentSpec } from "../spec/schema.ts";

export function controlVariant(spec: ExperimentSpec): string {
  const names = Object.entries(spec.variants)
    .filter(([, v]) => v.role === "control")
    .map(([name]) => name);
  if (names.length !== 1)
    throw new RangeError(`variants: expected exactly one control, found ${names.length}`);
  return names[0]!;
}

export function treatmentVariants(spec: ExperimentSpec): string[] {
  return Object.entries(spec.variants)
    .filter(([, v]) => v.role !== "control")
    .map(([name]) => name);
}
