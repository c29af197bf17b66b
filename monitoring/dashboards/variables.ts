/**
 * The dashboard's template variables: which Prometheus to ask, which experiment (fixed to the
 * spec's: the panels and thresholds are built from that spec), and which variants to show.
 */
import {
  CustomVariableBuilder,
  DatasourceVariableBuilder,
  VariableHide,
} from "@grafana/grafana-foundation-sdk/dashboard";
import type { ExperimentSpec } from "../../spec/schema.ts";

/** The variants in a stable order: control first, then treatments by name. */
export function orderedVariants(spec: ExperimentSpec): { control: string; treatments: string[] } {
  const names = Object.keys(spec.variants).sort();
  const control = names.find((name) => spec.variants[name]?.role === "control");
  // The spec's cross-field checks guarantee exactly one control.
  if (control === undefined) throw new Error(`experiment ${spec.name} has no control variant`);
  return { control, treatments: names.filter((name) => name !== control) };
}

/** `datasource`, `experiment` and `variant`, in the order Grafana shows them. */
export function templateVariables(spec: ExperimentSpec) {
  const { control, treatments } = orderedVariants(spec);
  const variants = [control, ...treatments];
  return [
    new DatasourceVariableBuilder("datasource")
      .label("Prometheus")
      .type("prometheus")
      .description("The Prometheus that scrapes the router (and vLLM) and evaluates the guardrail rules."),
    new CustomVariableBuilder("experiment")
      .label("Experiment")
      .values(spec.name)
      .current({ selected: true, text: spec.name, value: spec.name })
      // Shown as a label, not a choice: thresholds and guardrail panels belong to this spec only.
      .hide(VariableHide.DontHide)
      .allowCustomValue(false)
      .description("The experiment this dashboard was generated for (its spec's name)."),
    new CustomVariableBuilder("variant")
      .label("Variant")
      .values(variants.join(","))
      .multi(true)
      .includeAll(true)
      .allowCustomValue(false)
      .current({ selected: true, text: ["All"], value: ["$__all"] })
      .description(
        "Variants shown on the per-variant panels; the split, SRM and guardrail ratios always use all.",
      ),
  ];
}
