/**
 * The experiment's arms as the rules see them: one control, which every treatment is compared
 * with, and the treatments, which guardrails judge.
 */
import type { ExperimentSpec } from "../spec/schema.ts";
import { matcher } from "./promql.ts";

/** The control variant's name (spec validation guarantees exactly one). */
export function controlVariant(spec: Pick<ExperimentSpec, "variants">): string {
  const control = Object.entries(spec.variants).find(([, variant]) => variant.role === "control");
  if (control === undefined) throw new Error("the spec has no control variant (validate the spec first)");
  return control[0];
}

/** The treatment variants' names, in spec order. */
export function treatmentVariants(spec: Pick<ExperimentSpec, "variants">): string[] {
  return Object.entries(spec.variants)
    .filter(([, variant]) => variant.role === "treatment")
    .map(([name]) => name);
}

/** Matchers for this experiment's series. */
export function experimentMatchers(spec: Pick<ExperimentSpec, "name">): string[] {
  return [matcher("experiment", "=", spec.name)];
}

/** Matchers for the control's series of this experiment. */
export function controlMatchers(spec: Pick<ExperimentSpec, "name" | "variants">): string[] {
  return [...experimentMatchers(spec), matcher("variant", "=", controlVariant(spec))];
}

/** Matchers for every treatment's series of this experiment (anything but the control). */
export function treatmentMatchers(spec: Pick<ExperimentSpec, "name" | "variants">): string[] {
  return [...experimentMatchers(spec), matcher("variant", "!=", controlVariant(spec))];
}
