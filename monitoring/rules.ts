/**
 * The Prometheus rule file of one experiment, assembled from the recording, SRM and alert modules:
 * a recording group, then an alerting group that reads it (both at the profile's interval).
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

/** Name of the recording group of an experiment. */
export function recordingGroupName(spec: Pick<ExperimentSpec, "name">): string {
  return `llm-ab.${spec.name}.recording`;
}

/** Name of the alerting group of an experiment. */
export function alertingGroupName(spec: Pick<ExperimentSpec, "name">): string {
  return `llm-ab.${spec.name}.alerts`;
}

/** The experiment's rule file as data (for a `PrometheusRule` or for {@link rulesYaml}). */
export function renderRules(spec: ExperimentSpec, options: RulesOptions = {}): RuleFile {
  const time = timing(spec, options.profile ?? "production");
  return {
    groups: [
      {
        name: recordingGroupName(spec),
        interval: time.interval,
        rules: [...recordingRules(spec, time), ...srmRecordingRules(spec, time)],
      },
      {
        name: alertingGroupName(spec),
        interval: time.interval,
        rules: [...alertRules(spec, time), srmAlert(spec, time)],
      },
    ],
  };
}

/** The rule file as YAML, keys sorted so the same spec always gives the same bytes. */
export function rulesYaml(spec: ExperimentSpec, options: RulesOptions = {}): string {
  return stringify(renderRules(spec, options), { sortMapEntries: true, lineWidth: 0 });
}
