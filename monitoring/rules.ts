/**
 * The Prometheus rule file of one experiment, assembled from the recording, SRM and alert modules
 * into one group at the profile's interval: recording rules first, then the alerts that read them.
 *
 * One group, not a recording group and an alerting group: Prometheus evaluates the rules of a
 * group in order at one timestamp, but separate groups at unrelated offsets, so an alert in its
 * own group reads records up to one interval old, which delays every guardrail by up to an
 * evaluation interval (a minute in production).
 */
import { stringify } from "yaml";
import type { ExperimentSpec } from "../spec/schema.ts";
import { alertRules } from "./alert-rules.ts";
import { type MonitoringProfile, timing } from "./config.ts";
import { recordingRules } from "./recording-rules.ts";
import type { RuleFile } from "./rule-file.ts";
import { srmAlert, srmRecordingRules } from "./srm-rules.ts";

/** Options of {@link renderRules}. */
export interface RulesOptions {
  /** `production` (spec.monitoring timings) or `local` (spec.monitoring.local). Default production. */
  readonly profile?: MonitoringProfile;
}

/** Name of the experiment's rule group. */
export function ruleGroupName(spec: Pick<ExperimentSpec, "name">): string {
  return `llm-ab.${spec.name}`;
}

/** The experiment's rule file as data (for a `PrometheusRule` or for {@link rulesYaml}). */
export function renderRules(spec: ExperimentSpec, options: RulesOptions = {}): RuleFile {
  const time = timing(spec, options.profile ?? "production");
  return {
    groups: [
      {
        name: ruleGroupName(spec),
        interval: time.interval,
        rules: [
          ...recordingRules(spec, time),
          ...srmRecordingRules(spec, time),
          ...alertRules(spec, time),
          srmAlert(spec, time),
        ],
      },
    ],
  };
}

/** The rule file as YAML, keys sorted so the same spec always gives the same bytes. */
export function rulesYaml(spec: ExperimentSpec, options: RulesOptions = {}): string {
  return stringify(renderRules(spec, options), { sortMapEntries: true, lineWidth: 0 });
}
