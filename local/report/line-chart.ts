/**
 * One line chart as a static SVG string, rendered server-side by echarts (SSR, no animation):
 * lines that break at missing samples, horizontal reference levels, and vertical time marks.
 * The plot area is fixed, so charts stacked one above the other share their time axis exactly.
 */
import { LineChart, type LineSeriesOption } from "echarts/charts";
import {
  GridComponent,
  type GridComponentOption,
  LegendComponent,
  type LegendComponentOption,
  MarkLineComponent,
  type MarkLineComponentOption,
  TitleComponent,
  type TitleComponentOption,
} from "echarts/components";
import { type ComposeOption, init, use } from "echarts/core";
import { SVGRenderer } from "echarts/renderers";
import type { ChartSeries } from "../run-result.ts";

use([LineChart, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, SVGRenderer]);

type Option = ComposeOption<
  | LineSeriesOption
  | GridComponentOption
  | LegendComponentOption
  | MarkLineComponentOption
  | TitleComponentOption
>;
type MarkLineData = NonNullable<NonNullable<LineSeriesOption["markLine"]>["data"]>;

/** One drawn line: its legend name, colour, and whether it is dashed (cold replicas). */
export interface LineSpec {
  readonly name: string;
  readonly colour: string;
  readonly dashed: boolean;
  readonly points: ChartSeries["points"];
}

/** A horizontal reference line (a guardrail ceiling, a configured share). */
export interface LevelSpec {
  readonly value: number;
  readonly label: string;
  readonly colour: string;
}

/** A vertical line at `t`: a guardrail event (solid, labelled at the top) or a scenario change. */
export interface TimeMarkSpec {
  readonly t: number;
  readonly label: string;
  readonly colour: string;
  readonly kind: "event" | "scenario";
}

export interface LineChartSpec {
  readonly lines: readonly LineSpec[];
  readonly levels?: readonly LevelSpec[];
  readonly marks: readonly TimeMarkSpec[];
  /** Right end of the shared time axis, seconds. */
  readonly tMax: number;
  readonly yFormat: (y: number) => string;
  /** A fixed y range (shares); otherwise echarts picks one that includes every level. */
  readonly yMin?: number;
  readonly yMax?: number;
  readonly width?: number;
  readonly height?: number;
}

export const CHART_WIDTH = 1100;
export const CHART_HEIGHT = 300;

/**
 * echarts draws a line only between two adjacent points, so a sample with gaps on both sides
 * would vanish: give such points a dot of their own.
 */
function seriesData(points: ChartSeries["points"]): NonNullable<LineSeriesOption["data"]> {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  return sorted.map(([t, y], i) => {
    const before = sorted[i - 1]?.[1] ?? null;
    const after = sorted[i + 1]?.[1] ?? null;
    if (y !== null && before === null && after === null) {
      return { value: [t, y], symbol: "circle", symbolSize: 5 };
    }
    return [t, y];
  });
}

/** Plot area of every chart, fixed so the time axes of stacked charts line up. */
const GRID = { left: 72, right: 28, top: 62, bottom: 44 } as const;

function markLineOf(
  marks: readonly TimeMarkSpec[],
  levels: readonly LevelSpec[],
  tMax: number,
  height: number,
): LineSeriesOption["markLine"] {
  const plotHeight = height - GRID.top - GRID.bottom;
  const data: MarkLineData = [
    ...marks.map((m) => ({
      name: m.label,
      xAxis: m.t,
      lineStyle: {
        color: m.colour,
        width: m.kind === "event" ? 2 : 1.5,
        type: m.kind === "event" ? "solid" : "dashed",
      },
      // Events are labelled level above the plot, scenario changes along their line from the
      // bottom: an event and the change that caused it are close in time but do not overprint.
      label:
        m.kind === "event"
          ? {
              position: "end",
              color: m.colour,
              fontWeight: "bold",
              align: m.t > 0.75 * tMax ? "right" : m.t < 0.25 * tMax ? "left" : "center",
              width: 360,
              overflow: "truncate",
            }
          : { position: "insideStartTop", color: m.colour, width: plotHeight - 8, overflow: "truncate" },
    })),
    ...levels.map((l) => ({
      name: l.label,
      yAxis: l.value,
      lineStyle: { color: l.colour, width: 1.5, type: [6, 3, 1, 3] },
      label: { position: "insideEndTop", color: l.colour },
    })),
  ] as MarkLineData;
  return {
    silent: true,
    symbol: "none",
    animation: false,
    label: { formatter: "{b}", fontSize: 11 },
    data,
  };
}

/** One line chart as an SVG string. */
export function lineChartSvg(spec: LineChartSpec): string {
  const levels = spec.levels ?? [];
  const drawn = spec.lines.filter((l) => l.points.some(([, y]) => y !== null));
  const option: Option = {
    animation: false,
    backgroundColor: "#ffffff",
    textStyle: { fontFamily: "sans-serif" },
    ...(drawn.length === 0
      ? {
          title: {
            text: "no samples in this run",
            left: "center",
            top: "middle",
            textStyle: { color: "#6b7280" },
          },
        }
      : {}),
    // The legend shows the line style only: a dot would suggest the series is drawn with points.
    legend: {
      top: 4,
      data: spec.lines.map((l) => l.name),
      itemWidth: 28,
      itemGap: 22,
      itemStyle: { opacity: 0 },
    },
    grid: { ...GRID },
    xAxis: {
      type: "value",
      min: 0,
      max: spec.tMax,
      name: "seconds since start",
      nameLocation: "middle",
      nameGap: 26,
      axisLabel: { formatter: (t: number) => `${t}` },
      splitLine: { lineStyle: { color: "#eef0f3" } },
    },
    yAxis: {
      type: "value",
      ...(spec.yMin === undefined ? {} : { min: spec.yMin }),
      ...(spec.yMax === undefined ? {} : { max: spec.yMax }),
      axisLabel: { formatter: (y: number) => spec.yFormat(y) },
      splitLine: { lineStyle: { color: "#eef0f3" } },
    },
    series: [
      ...spec.lines.map(
        (l): LineSeriesOption => ({
          type: "line",
          name: l.name,
          data: seriesData(l.points),
          connectNulls: false,
          showSymbol: true,
          symbol: "none",
          color: l.colour,
          lineStyle: { color: l.colour, width: 2, ...(l.dashed ? { type: [7, 4] } : {}) },
          itemStyle: { color: l.colour },
        }),
      ),
      // Levels widen the y range through an invisible point, so echarts still picks round ticks.
      {
        type: "line",
        name: "",
        data: levels.map((l) => [0, l.value]),
        symbol: "none",
        lineStyle: { opacity: 0 },
        silent: true,
        markLine: markLineOf(spec.marks, levels, spec.tMax, spec.height ?? CHART_HEIGHT),
      },
    ],
  };
  const chart = init(null, null, {
    renderer: "svg",
    ssr: true,
    width: spec.width ?? CHART_WIDTH,
    height: spec.height ?? CHART_HEIGHT,
  });
  try {
    chart.setOption(option);
    return chart.renderToSVGString();
  } finally {
    // An undisposed SSR chart keeps a timer alive and the process from exiting.
    chart.dispose();
  }
}
