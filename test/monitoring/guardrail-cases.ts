/**
 * Generated promtool suites: for every guardrail of a spec, synthetic router series in which every
 * treatment breaches it (through the absolute threshold, and separately through the relative
 * margin), and the check that its alert is quiet one interval before `for:` runs out and firing
 * exactly then. Warm latency guardrails also get a cold-only regression: their cold-start review
 * fires, the guardrail itself does not.
 *
 * All counters start at 0 and grow by a fixed step per evaluation interval, so the first window
 * with two samples (at one interval) already holds a full step: the breach starts at 1 interval and
 * the alert fires at 1 interval + `for:`.
 */
import { stringify } from "yaml";
import { coldReviewAlertName, guardrailAlertNames } from "../../monitoring/alert-rules.ts";
import { durationMs, formatDuration, type MonitoringProfile, timing } from "../../monitoring/config.ts";
import { guardrailSeries, isWarmLatency } from "../../monitoring/guardrail-series.ts";
import type { AlertingRule } from "../../monitoring/rule-file.ts";
import { renderRules, ruleGroupName } from "../../monitoring/rules.ts";
import { E2E_BUCKETS, TOKEN_GAP_BUCKETS, TTFT_BUCKETS } from "../../router/metrics.ts";
import { guardrailMetric } from "../../spec/guardrail-metrics.ts";
import type { ExperimentSpec, Guardrail } from "../../spec/schema.ts";
import { expand } from "./go-template-text.ts";

/** One generated scenario: a promtool test group and what it shows. */
export interface GuardrailCase {
  /** A sentence, for the vitest test name. */
  readonly title: string;
  /** The promtool test file (YAML), reading `rules.yaml`. */
  readonly testFile: string;
}

const histogramBuckets: Readonly<Record<string, readonly number[]>> = {
  llmab_ttft_seconds: TTFT_BUCKETS,
  llmab_tpot_seconds: TOKEN_GAP_BUCKETS,
  llmab_itl_seconds: TOKEN_GAP_BUCKETS,
  llmab_e2e_seconds: E2E_BUCKETS,
};

type Series = { series: string; values: string };
type Values = Readonly<Record<string, number>>;

function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(", ");
}

/** A counter from 0 growing by `step` per interval, `points` steps long. */
function counter(
  name: string,
  labels: Readonly<Record<string, string>>,
  step: number,
  points: number,
): Series {
  return { series: `${name}{${labelText(labels)}}`, values: `0+${Number(step.toPrecision(12))}x${points}` };
}

/** A latency histogram's value when all observations fall into bucket `index` of `bounds`. */
function bucketValue(bounds: readonly number[], index: number, quantile: number): number {
  const lower = index === 0 ? 0 : (bounds[index - 1] as number);
  return lower + ((bounds[index] as number) - lower) * quantile;
}

interface Scenario {
  /** Observations of each variant (quantiles: bucket index; others: the value itself). */
  readonly values: Values;
  readonly how: string;
}

/** Treatment and control values that breach `guardrail` through `via` only, or undefined if impossible. */
function scenario(
  spec: ExperimentSpec,
  guardrail: Guardrail,
  via: "absolute" | "relative",
): Scenario | undefined {
  const series = guardrailSeries(spec, guardrail, "1m");
  const metric = guardrailMetric(guardrail.name);
  const absolute = series.lowerIsBetter ? guardrail.max : guardrail.min;
  const relative = guardrail.relativeMax;
  if (metric?.measure.kind === "quantile") {
    const bounds = histogramBuckets[metric.measure.histogram] ?? [];
    const q = metric.measure.quantile;
    const at = (index: number) => bucketValue(bounds, index, q);
    if (via === "absolute") {
      if (absolute === undefined) return undefined;
      const index = bounds.findIndex((_, i) => i > 0 && (bounds[i - 1] as number) >= absolute);
      if (index < 0) return undefined;
      return {
        values: { control: index, treatment: index },
        how: `both variants at ${at(index)} s, above the ${absolute} s ceiling`,
      };
    }
    if (relative === undefined) return undefined;
    const floor = at(0) * (1 + relative);
    const index = bounds.findIndex((_, i) => i > 0 && at(i) > floor * 1.001);
    if (index < 0 || (absolute !== undefined && at(index) >= absolute)) return undefined;
    return {
      values: { control: 0, treatment: index },
      how: `treatment at ${at(index)} s against control at ${at(0)} s`,
    };
  }
  if (via === "absolute") {
    if (absolute === undefined) return undefined;
    const value = series.lowerIsBetter
      ? series.format === "percent"
        ? Math.min(2 * absolute, (absolute + 1) / 2)
        : 2 * absolute
      : absolute / 2;
    return { values: { control: value, treatment: value }, how: `both variants at ${value}` };
  }
  if (relative === undefined || (!series.lowerIsBetter && relative >= 1)) return undefined;
  if (series.lowerIsBetter) {
    const base = absolute === undefined ? 0.01 : absolute / (4 * (1 + relative));
    return {
      values: { control: base, treatment: base * 2 * (1 + relative) },
      how: "treatment twice the margin above control",
    };
  }
  const base = absolute !== undefined && absolute > 0 ? absolute * 2 : 1;
  return {
    values: { control: (base * 2) / (1 - relative), treatment: base },
    how: "treatment twice the margin below control",
  };
}

type Labels = Readonly<Record<string, string>>;

/** Series of a built-in ratio metric for one variant whose value is `value`. */
const ratioSeries: Readonly<
  Record<string, (labels: Labels, value: number, step: number, points: number) => Series[]>
> = {
  error_rate: (labels, value, step, points) => [
    counter("llmab_requests_total", { ...labels, code: "200" }, (1 - value) * step, points),
    counter("llmab_requests_total", { ...labels, code: "500" }, value * step, points),
  ],
  cost_per_session_usd: (labels, value, step, points) => [
    counter("llmab_cost_usd_total", labels, value * step, points),
    counter("llmab_assignments_total", labels, step, points),
  ],
  cost_per_request_usd: (labels, value, step, points) => [
    counter("llmab_cost_usd_total", labels, value * step, points),
    counter("llmab_requests_total", { ...labels, code: "200" }, step, points),
  ],
  output_tokens_per_request: (labels, value, step, points) => [
    counter("llmab_tokens_total", { ...labels, kind: "output" }, value * step, points),
    counter("llmab_requests_total", { ...labels, code: "200" }, step, points),
  ],
  input_tokens_per_request: (labels, value, step, points) => [
    counter("llmab_tokens_total", { ...labels, kind: "input" }, value * step, points),
    counter("llmab_requests_total", { ...labels, code: "200" }, step, points),
  ],
};

interface Arms {
  readonly control: string;
  readonly treatments: readonly string[];
}

function arms(spec: ExperimentSpec): Arms {
  const entries = Object.entries(spec.variants);
  return {
    control: entries.find(([, variant]) => variant.role === "control")?.[0] ?? "control",
    treatments: entries.filter(([, variant]) => variant.role === "treatment").map(([name]) => name),
  };
}

/** Input series of every variant for `guardrail`, each variant at its role's scenario value. */
function inputSeries(
  spec: ExperimentSpec,
  guardrail: Guardrail,
  values: Values,
  step: number,
  points: number,
): Series[] {
  const { control, treatments } = arms(spec);
  const variants: [string, number][] = [
    [control, values.control ?? 0],
    ...treatments.map((name): [string, number] => [name, values.treatment ?? 0]),
  ];
  const metric = guardrailMetric(guardrail.name);
  return variants.flatMap(([variant, value]) => {
    const labels = { experiment: spec.name, variant };
    if (metric?.measure.kind === "quantile") {
      const { histogram } = metric.measure;
      const bounds = histogramBuckets[histogram] ?? [];
      const state = guardrail.replicaState === "any" ? "warm" : guardrail.replicaState;
      const stateLabels = { ...labels, replica_state: state };
      // All of a variant's observations fall into bucket `value`: cumulative counts step from there on.
      return [
        ...bounds.map((bound, i) =>
          counter(
            `${histogram}_bucket`,
            { ...stateLabels, le: String(bound) },
            i >= value ? step : 0,
            points,
          ),
        ),
        counter(`${histogram}_bucket`, { ...stateLabels, le: "+Inf" }, step, points),
        counter(`${histogram}_count`, stateLabels, step, points),
      ];
    }
    const ratio = ratioSeries[guardrail.name];
    if (ratio !== undefined) return ratio(labels, value, step, points);
    const outcome = guardrailSeries(spec, guardrail, "1m").outcome;
    if (outcome === undefined) throw new Error(`no generated series for guardrail ${guardrail.name}`);
    const field = (name: string) => ({ ...labels, metric: name });
    if (outcome.kind === "mean") {
      return [
        counter("llmab_outcome_observations_total", field(outcome.field), step, points),
        counter("llmab_outcome_sum", field(outcome.field), value * step, points),
      ];
    }
    return [
      counter("llmab_outcome_sum", field(outcome.numerator), value * step, points),
      counter("llmab_outcome_sum", field(outcome.denominator), step, points),
      counter("llmab_outcome_observations_total", field(outcome.denominator), step, points),
    ];
  });
}

/** The value an alert reports for the treatment under `values`. */
function treatmentValue(guardrail: Guardrail, values: Values): number {
  const metric = guardrailMetric(guardrail.name);
  const treatment = values.treatment ?? 0;
  if (metric?.measure.kind !== "quantile") return treatment;
  return bucketValue(histogramBuckets[metric.measure.histogram] ?? [], treatment, metric.measure.quantile);
}

function findAlert(spec: ExperimentSpec, profile: MonitoringProfile, name: string): AlertingRule {
  for (const group of renderRules(spec, { profile }).groups) {
    for (const rule of group.rules) if ("alert" in rule && rule.alert === name) return rule;
  }
  throw new Error(`no alert ${name} in the rendered rules`);
}

/** One promtool test file: `judged` breaches at 1 interval, fires at 1 interval + for; `quiet` never fires. */
function testFile(
  spec: ExperimentSpec,
  profile: MonitoringProfile,
  series: readonly Series[],
  judged: { alert: AlertingRule; guardrail: Guardrail; values: Values; stateful: boolean },
  quiet: readonly string[],
): string {
  const time = timing(spec, profile);
  const interval = durationMs(time.interval);
  const hold = durationMs(judged.alert.for);
  const fire = interval + hold;
  const { treatments } = arms(spec);
  const format = guardrailSeries(spec, judged.guardrail, time.window).format;
  const value = treatmentValue(judged.guardrail, judged.values);
  const state = judged.guardrail.replicaState;
  const expected = treatments.map((variant) => ({
    exp_labels: { ...judged.alert.labels, variant, ...(judged.stateful ? { replica_state: state } : {}) },
    exp_annotations: {
      ...judged.alert.annotations,
      description: expand(judged.alert.annotations.description ?? "", spec.name, variant, value, format),
    },
  }));
  return stringify(
    {
      rule_files: ["rules.yaml"],
      evaluation_interval: time.interval,
      group_eval_order: [ruleGroupName(spec)],
      tests: [
        {
          interval: time.interval,
          input_series: series,
          alert_rule_test: [
            { alertname: judged.alert.alert, eval_time: formatDuration(hold) },
            { alertname: judged.alert.alert, eval_time: formatDuration(fire), exp_alerts: expected },
            ...quiet.map((alertname) => ({ alertname, eval_time: formatDuration(fire) })),
          ],
        },
      ],
    },
    { lineWidth: 0 },
  );
}

/** Every generated case of a spec under a profile. */
export function guardrailCases(spec: ExperimentSpec, profile: MonitoringProfile): GuardrailCase[] {
  const time = timing(spec, profile);
  const interval = durationMs(time.interval);
  const names = guardrailAlertNames(spec);
  const cases: GuardrailCase[] = [];
  spec.metrics.guardrails.forEach((guardrail, index) => {
    const name = names[index] ?? "";
    const alert = findAlert(spec, profile, name);
    const step = Math.max(1000, 2 * guardrail.minSamples);
    const points = (interval + durationMs(alert.for)) / interval + 2;
    const stateful =
      guardrailMetric(guardrail.name)?.measure.kind === "quantile" && guardrail.replicaState !== "any";
    for (const via of ["absolute", "relative"] as const) {
      const chosen = scenario(spec, guardrail, via);
      if (chosen === undefined) continue;
      cases.push({
        title: `${name} fires through the ${via} threshold (${chosen.how}) at for: ${alert.for}, not one interval before`,
        testFile: testFile(
          spec,
          profile,
          inputSeries(spec, guardrail, chosen.values, step, points),
          { alert, guardrail, values: chosen.values, stateful },
          [],
        ),
      });
    }
    if (!isWarmLatency(guardrail)) return;
    const cold: Guardrail = { ...guardrail, replicaState: "cold" };
    const review = findAlert(spec, profile, coldReviewAlertName(name));
    const chosen = scenario(spec, cold, guardrail.relativeMax === undefined ? "absolute" : "relative");
    if (chosen === undefined) return;
    const healthyWarm = inputSeries(spec, guardrail, { control: 0, treatment: 0 }, step, points);
    cases.push({
      title: `a cold-only regression (${chosen.how}) fires ${review.alert} at for: ${review.for} and never ${name}`,
      testFile: testFile(
        spec,
        profile,
        [...healthyWarm, ...inputSeries(spec, cold, chosen.values, step, points)],
        { alert: review, guardrail: cold, values: chosen.values, stateful: true },
        [name],
      ),
    });
  });
  return cases;
}
