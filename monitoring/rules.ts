/**
 * The Prometheus rule file of one experiment, assembled from the recording, SRM and alert modules
 * into one group at the profile's interval: recording rules first, then the alerts that read them.
 *
 * One group, not a recording group and an alerting group: Prometheus evaluates the rules of a
 * group in order at one timestamp, but separate groups at unrelated offsets, so an alert in its
 * own group reads records up to one interval old, which delays every guardrail by up to an
 * evaluation interval (a minute in production).
 *
 * Mode bandit renders no SRM rules (srm-rules.ts, `checksSampleRatio`): its allocation moves on
 * purpose. The YAML file says so in a comment at its top; the guardrails are the same as in mode ab.
 */
import { Document } from "yaml";
import type { ExperimentSpec } from "../spec/schema.ts";
import { alertRules } from "./alert-rules.ts";
import { type MonitoringProfile, timing } from "./config.ts";
import { recordingRules } from "./recording-rules.ts";
import type { RuleFile } from "./rule-file.ts";
import { checksSampleRatio, NO_SRM_IN_BANDIT, srmAlert, srmRecordingRules } from "./srm-rules.ts";

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
  const srm = checksSampleRatio(spec);
  return {
    groups: [
      {
        name: ruleGroupName(spec),
        interval: time.interval,
        rules: [
          ...recordingRules(spec, time),
          ...(srm ? srmRecordingRules(spec, time) : []),
          ...alertRules(spec, time),
          ...(srm ? [srmAlert(spec, time)] : []),
        ],
      },
    ],
  };
}

/**
 * The rule file as YAML, keys sorted so the same spec always gives the same bytes. In mode bandit a
 * comment at the top says why the file has no SRM rules, for whoever looks for them there.
 */
export function rulesYaml(spec: ExperimentSpec, options: RulesOptions = {}): string {
  const document = new Document(renderRules(spec, options), { sortMapEntries: true });
  if (!checksSampleRatio(spec)) document.commentBefore = commentLines(NO_SRM_IN_BANDIT, 98);
  return document.toString({ lineWidth: 0 });
}

/** `text` as YAML comment lines of at most `width` characters, each after `# `. */
function commentLines(text: string, width: number): string {
  const lines: string[] = [];
  for (const word of text.split(" ")) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width)
      lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.map((line) => ` ${line}`).join("\n");
}
