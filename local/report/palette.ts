/**
 * The colours of the demo report, in one place so the charts, the HTML and the screenshot test
 * agree. Control and treatment get a colour-blind-safe blue/orange pair; warm and cold of one
 * variant share its colour (cold is dashed), so a reader follows a variant by colour alone.
 */
import type { Verdict } from "../../stats/decision.ts";
import type { EventAction } from "../run-result.ts";

/** Colours of the variants in order: control first, then each treatment. */
export const VARIANT_COLOURS = ["#1f6fd1", "#e8590c", "#2b9348", "#9d4edd", "#c9184a"] as const;

/** Vertical marker lines: what a guardrail did (by action) and what the scenario changed. */
export const EVENT_COLOURS: Readonly<Record<EventAction, string>> = {
  pause: "#d62828",
  rollback: "#7b1e1e",
  review: "#b7791f",
};
export const SCENARIO_MARKER_COLOUR = "#6b7280";
/** The guardrail's absolute ceiling on the latency charts. */
export const LIMIT_COLOUR = "#a61e4d";
/** The configured split on the split chart. */
export const PLANNED_COLOUR = "#6b7280";

/** The verdict badge: ship green, hold amber, rollback red, undecided grey. */
export const VERDICT_COLOURS: Readonly<Record<Verdict, { background: string; text: string }>> = {
  ship: { background: "#1b873f", text: "#ffffff" },
  hold: { background: "#f0a202", text: "#1f1300" },
  rollback: { background: "#c92a2a", text: "#ffffff" },
  "keep running": { background: "#6b7280", text: "#ffffff" },
  inconclusive: { background: "#6b7280", text: "#ffffff" },
};

/**
 * Variant → colour: control and treatment first (so they keep their colours in every chart of a
 * report), then any other variant a series names, in order of appearance.
 */
export function variantColours(
  control: string,
  treatment: string,
  others: readonly string[] = [],
): Map<string, string> {
  const colours = new Map<string, string>();
  for (const variant of [control, treatment, ...others]) {
    if (colours.has(variant)) continue;
    colours.set(variant, VARIANT_COLOURS[colours.size % VARIANT_COLOURS.length]!);
  }
  return colours;
}
