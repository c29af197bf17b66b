/**
 * Is the experiment running, and is a guardrail holding it back? The runtime state the router
 * reports, and the guardrail alerts Prometheus has pending or firing for this experiment.
 */
import * as common from "@grafana/grafana-foundation-sdk/common";
import { FieldColorModeId, RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { QUARTER, stat, table } from "./panels.ts";
import { EXPERIMENT, selector } from "./promql.ts";

/** The runtime states (DESIGN.md, "Guardrail actions") and the colour each is shown in. */
export const stateColors = { active: "green", paused: "orange", rolled_back: "red" } as const;

/** The state whose gauge is 1 now (max over router replicas, which share it through the store). */
export const STATE_QUERY = `max by (state) (${selector("llmab_experiment_state", [EXPERIMENT])}) == 1`;
/** How many of this experiment's alerts are firing; 0, not "no data", when none is. */
export const FIRING_COUNT_QUERY = `count(${selector("ALERTS", [EXPERIMENT, 'alertstate="firing"'])}) or vector(0)`;
/** This experiment's pending and firing alerts, one row each. */
export const ALERTS_QUERY = `max by (alertname, variant, action, severity, alertstate) (${selector("ALERTS", [EXPERIMENT])})`;

/** The "Experiment state and guardrails" row: runtime state, firing count, the alerts themselves. */
export function stateRow() {
  const state = stat(
    {
      title: "Experiment state",
      description:
        "The runtime state the router applies: active; paused (treatment gets no traffic until resumed); rolled_back (the same, latched until a person resumes).",
      unit: "none",
      width: QUARTER,
    },
    [{ expr: STATE_QUERY, legend: "{{state}}" }],
    [{ value: null, color: "text" }],
  ).textMode(common.BigValueTextMode.Name);
  for (const [name, color] of Object.entries(stateColors)) {
    state.overrideByName(name, [{ id: "color", value: { mode: FieldColorModeId.Fixed, fixedColor: color } }]);
  }
  return {
    row: new RowBuilder("Experiment state and guardrails"),
    panels: [
      state,
      stat(
        {
          title: "Firing guardrails",
          description:
            "Alerts of this experiment firing now: guardrail breaches (pause, rollback or review), sample ratio mismatch, vanished treatment data.",
          unit: "none",
          width: QUARTER,
        },
        [{ expr: FIRING_COUNT_QUERY, legend: "firing" }],
        [
          { value: null, color: "green" },
          { value: 1, color: "red" },
        ],
      ),
      table(
        {
          title: "Guardrail alerts",
          description:
            "This experiment's alerts now, pending (breaching, not yet for the required windows) or firing, with the action each one triggers.",
          unit: "none",
          width: 2 * QUARTER,
        },
        { expr: ALERTS_QUERY, legend: "{{alertname}}" },
      ),
    ],
  };
}
