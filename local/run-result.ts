/**
 * What a demo run produced, as the report and `--json` read it: the verdict and why, the guardrail
 * events in the order the router saw them, the time series pulled from Prometheus at the end, the
 * traffic the simulated application sent, and the analysis of the router's event log.
 */
import type { AnalysisReport } from "../analysis/analyze.ts";
import type { Verdict } from "../stats/decision.ts";

/** What a guardrail did: the router paused or rolled back the treatment, or a person was asked to look. */
export type EventAction = "pause" | "rollback" | "review";

/** One guardrail event, `t` seconds after the traffic started. */
export interface DemoEvent {
  readonly t: number;
  readonly action: EventAction;
  /** Alert name, e.g. `LlmAbGuardrailTtftP95SecondsWarm`. */
  readonly alert: string;
  /** The treatment the alert was about, when it names one. */
  readonly variant?: string;
}

/** One line of a chart: a variant (and replica state, for latency), `[t seconds, value]` points. */
export interface ChartSeries {
  readonly variant: string;
  readonly replicaState?: "warm" | "cold";
  /** `value` null where Prometheus had no sample (a gap, not a zero). */
  readonly points: readonly (readonly [t: number, value: number | null])[];
}

/** A scenario change shown on the charts as a marker, `t` seconds after the start. */
export interface ScenarioMarker {
  readonly t: number;
  readonly label: string;
}

/** The charts of the report, all on the same time axis (seconds since traffic started). */
export interface DemoCharts {
  /** p95 time to first token, seconds, per variant × replica state (router-measured). */
  readonly ttftP95: readonly ChartSeries[];
  /** p95 inter-token latency, seconds, per variant × replica state. */
  readonly itlP95: readonly ChartSeries[];
  /** Share of new units assigned to each variant over three guardrail windows. */
  readonly split: readonly ChartSeries[];
  /** Requests per second per variant (served variant). */
  readonly requestRate: readonly ChartSeries[];
  /** Share of failed requests per variant. */
  readonly errorRate: readonly ChartSeries[];
}

/** What the simulated application sent and saw. */
export interface TrafficSummary {
  readonly conversations: number;
  readonly requests: number;
  /** Requests per served variant (from the router's `x-llm-ab-variant` answer header). */
  readonly requestsByVariant: Readonly<Record<string, number>>;
  /** Answers with a status other than 200, or streams that broke. */
  readonly failedRequests: number;
  /** Outcome events posted to the router, and those it refused (should be 0). */
  readonly outcomesSent: number;
  readonly outcomesRefused: number;
}

/** Everything a finished run hands to the report and to `--json`. */
export interface DemoResult {
  readonly scenario: { readonly name: string; readonly title: string; readonly story: string };
  readonly experiment: string;
  readonly control: string;
  readonly treatment: string;
  /** ISO 8601 time the traffic started. */
  readonly startedAt: string;
  readonly durationSeconds: number;
  /** The final word: the live action when a guardrail acted, else the analysis verdict. */
  readonly verdict: Verdict;
  /** Why, in sentences, most important first. */
  readonly reasons: readonly string[];
  /** The router's state at the end: active, paused or rolled_back. */
  readonly routerState: string;
  readonly events: readonly DemoEvent[];
  readonly markers: readonly ScenarioMarker[];
  readonly charts: DemoCharts;
  readonly traffic: TrafficSummary;
  /** The analysis of the router's event log; absent when it could not run (the reason is in `reasons`). */
  readonly analysis?: AnalysisReport;
  /** Guardrail limits to draw on the latency charts, seconds. */
  readonly ttftLimit?: { readonly max?: number; readonly relativeMax?: number };
  /** Files the run kept: the HTML report, the router's event log and its own log (webhook decisions, reloads). */
  readonly files: { readonly report: string; readonly events: string; readonly routerLog?: string };
}
