/**
 * The charts of the demo report as static SVG strings, so the HTML file needs no script to show
 * them. Every chart shares one time axis (seconds since the traffic started) and carries the
 * guardrail events and the scenario's changes as vertical lines, so a reader sees cause and
 * reaction stacked one above the other.
 */
import type { ChartSeries, DemoResult } from "../run-result.ts";
import { latency, percent, value } from "./format.ts";
import {
  type LevelSpec,
  type LineChartSpec,
  type LineSpec,
  lineChartSvg,
  type TimeMarkSpec,
} from "./line-chart.ts";
import {
  EVENT_COLOURS,
  LIMIT_COLOUR,
  PLANNED_COLOUR,
  SCENARIO_MARKER_COLOUR,
  variantColours,
} from "./palette.ts";

export type ChartId = "chart-ttft" | "chart-itl" | "chart-split" | "chart-requests" | "chart-errors";

export interface RenderedChart {
  readonly id: ChartId;
  readonly title: string;
  /** One sentence on how to read the chart. */
  readonly caption: string;
  readonly svg: string;
}

/** The guardrail events and scenario markers, as vertical lines on every chart. */
export function timeMarks(result: DemoResult): TimeMarkSpec[] {
  return [
    ...result.markers.map((m) => ({
      t: m.t,
      label: m.label,
      colour: SCENARIO_MARKER_COLOUR,
      kind: "scenario" as const,
    })),
    ...result.events.map((e) => ({
      t: e.t,
      label: `${e.action} · ${e.alert}`,
      colour: EVENT_COLOURS[e.action],
      kind: "event" as const,
    })),
  ];
}

/** The time axis every chart shares: the run's duration, or further when something happened later. */
export function sharedTimeRange(result: DemoResult): number {
  const { charts } = result;
  const all = [charts.ttftP95, charts.itlP95, charts.split, charts.requestRate, charts.errorRate].flat();
  const latest = Math.max(
    result.durationSeconds,
    ...all.flatMap((s) => s.points.map(([t]) => t)),
    ...result.events.map((e) => e.t),
    ...result.markers.map((m) => m.t),
  );
  return Math.ceil(latest);
}

/** Each series with its variant's colour; latency series named and dashed by replica state. */
export function linesOf(series: readonly ChartSeries[], colours: ReadonlyMap<string, string>): LineSpec[] {
  return series.map((s) => ({
    name: s.replicaState ? `${s.variant} ${s.replicaState}` : s.variant,
    colour: colours.get(s.variant) ?? SCENARIO_MARKER_COLOUR,
    dashed: s.replicaState === "cold",
    points: s.points,
  }));
}

/** The configured split as reference lines: one for an even split, one per arm otherwise. */
function plannedShares(result: DemoResult, colours: Map<string, string>): LevelSpec[] {
  const share = result.analysis?.plan.treatmentShare;
  if (share === undefined) return [];
  if (Math.abs(share - 0.5) < 1e-9) {
    return [{ value: 0.5, label: "configured 50 / 50", colour: PLANNED_COLOUR }];
  }
  return [
    {
      value: share,
      label: `configured ${result.treatment} ${percent(share, 0)}`,
      colour: colours.get(result.treatment)!,
    },
    {
      value: 1 - share,
      label: `configured ${result.control} ${percent(1 - share, 0)}`,
      colour: colours.get(result.control)!,
    },
  ];
}

function ttftCaption(ceiling: number | undefined, relative: number | undefined): string {
  const limits = [
    ...(ceiling === undefined ? [] : [`a ceiling of ${latency(ceiling)}`]),
    ...(relative === undefined ? [] : [`at most ${percent(relative, 0)} over control`]),
  ];
  const guardrail =
    limits.length === 0 ? "" : ` The guardrail allows the treatment's warm p95 ${limits.join(" and ")}.`;
  return `Warm replicas solid, cold dashed, as the router measured them.${guardrail}`;
}

/** The five charts of the report, in reading order. */
export function renderCharts(result: DemoResult): RenderedChart[] {
  const { charts } = result;
  const named = [charts.ttftP95, charts.itlP95, charts.split, charts.requestRate, charts.errorRate].flat();
  const colours = variantColours(
    result.control,
    result.treatment,
    named.map((s) => s.variant),
  );
  const tMax = sharedTimeRange(result);
  const marks = timeMarks(result);
  const chart = (series: readonly ChartSeries[], rest: Omit<LineChartSpec, "lines" | "marks" | "tMax">) =>
    lineChartSvg({ lines: linesOf(series, colours), marks, tMax, ...rest });
  const ceiling = result.ttftLimit?.max;
  const relative = result.ttftLimit?.relativeMax;
  return [
    {
      id: "chart-ttft",
      title: "Time to first token, p95",
      caption: ttftCaption(ceiling, relative),
      svg: chart(result.charts.ttftP95, {
        yFormat: latency,
        yMin: 0,
        levels:
          ceiling === undefined
            ? []
            : [{ value: ceiling, label: `ceiling ${latency(ceiling)}`, colour: LIMIT_COLOUR }],
      }),
    },
    {
      id: "chart-itl",
      title: "Inter-token latency, p95",
      caption: "Time between streamed tokens: warm replicas solid, cold dashed.",
      svg: chart(result.charts.itlP95, { yFormat: latency, yMin: 0 }),
    },
    {
      id: "chart-split",
      title: "Split of new units",
      caption:
        "Share of newly assigned conversations per variant, over 3 guardrail windows (new units arrive once per conversation).",
      svg: chart(result.charts.split, {
        yFormat: (y) => percent(y, 0),
        yMin: 0,
        yMax: 1,
        levels: plannedShares(result, colours),
      }),
    },
    {
      id: "chart-requests",
      title: "Request rate",
      caption: "Requests per second per served variant.",
      svg: chart(result.charts.requestRate, { yFormat: (y) => `${value(y, 3)}/s`, yMin: 0 }),
    },
    {
      id: "chart-errors",
      title: "Error rate",
      caption: "Share of requests that failed, per served variant.",
      svg: chart(result.charts.errorRate, { yFormat: (y) => percent(y, y > 0 && y < 0.01 ? 1 : 0), yMin: 0 }),
    },
  ];
}
