/**
 * The arena report's forest plot: the win rate's interval against its threshold and every rubric
 * axis's treatment − control interval against −maxAxisRegression, each row coloured by its check,
 * so a reader sees at a glance which bound crosses which line. echarts server-side SVG.
 */
import { LineChart, type LineSeriesOption, ScatterChart, type ScatterSeriesOption } from "echarts/charts";
import {
  GridComponent,
  type GridComponentOption,
  MarkLineComponent,
  type MarkLineComponentOption,
} from "echarts/components";
import { type ComposeOption, init, use } from "echarts/core";
import { SVGRenderer } from "echarts/renderers";
import { signedFixed } from "../local/report/format.ts";
import { CHART_WIDTH } from "../local/report/line-chart.ts";
import { LIMIT_COLOUR, VERDICT_COLOURS } from "../local/report/palette.ts";
import type { ArenaRun } from "./run.ts";

use([LineChart, ScatterChart, GridComponent, MarkLineComponent, SVGRenderer]);

type Option = ComposeOption<
  LineSeriesOption | ScatterSeriesOption | GridComponentOption | MarkLineComponentOption
>;

const PASS = VERDICT_COLOURS.ship.background;
const FAIL = VERDICT_COLOURS.rollback.background;
const UNKNOWN = VERDICT_COLOURS.inconclusive.background;
const fixed = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "–");

/** One row of the forest plot: an interval, its estimate, and the bound the gate holds to a line. */
interface ForestRow {
  readonly name: string;
  readonly interval: readonly [number, number];
  readonly estimate: number;
  readonly bound: number;
  readonly label: string;
  readonly colour: string;
}

function forestSeries(
  rows: readonly ForestRow[],
  grid: number,
  threshold: { readonly value: number; readonly label: string },
  extent: readonly number[],
) {
  const axes = { xAxisIndex: grid, yAxisIndex: grid };
  // A row without finite numbers keeps its name on the axis; its check's detail says why.
  const drawn = rows.filter((r) => [...r.interval, r.estimate, r.bound].every(Number.isFinite));
  const series: (LineSeriesOption | ScatterSeriesOption)[] = drawn.map((r) => ({
    type: "line",
    ...axes,
    data: r.interval.map((x) => [x, r.name]),
    symbol: "none",
    silent: true,
    lineStyle: { color: r.colour, width: 3 },
  }));
  series.push(
    {
      type: "scatter",
      ...axes,
      silent: true,
      data: drawn.flatMap((r) => [
        { value: [r.estimate, r.name], symbolSize: 11, itemStyle: { color: r.colour, opacity: 1 } },
        {
          value: [r.bound, r.name],
          symbol: "rect",
          symbolSize: [4, 20],
          itemStyle: { color: r.colour, opacity: 1 },
          label: { show: true, position: "top", formatter: r.label, color: r.colour, fontWeight: "bold" },
        },
      ]),
    },
    // The threshold and `extent` widen the x range through invisible points, so echarts still picks round ticks.
    {
      type: "scatter",
      ...axes,
      silent: true,
      symbolSize: 0,
      itemStyle: { opacity: 0 },
      data: [threshold.value, ...extent].map((x) => [x, rows[0]?.name ?? ""]),
      markLine: {
        silent: true,
        symbol: "none",
        animation: false,
        lineStyle: { color: LIMIT_COLOUR, width: 1.5, type: "dashed" },
        // The category axis is inverted (first row on top), so the line starts at the top.
        label: { position: "start", formatter: "{b}", color: LIMIT_COLOUR },
        data: [{ name: threshold.label, xAxis: threshold.value }],
      },
    },
  );
  return series;
}

/**
 * The forest plot as an SVG string: the win rate's interval against `minWinRateLowerBound` above,
 * each axis's treatment − control interval against −`maxAxisRegression` below; the tick on each
 * line is the bound the gate checks, green when its check passed and red when it failed.
 */
export function forestPlotSvg(run: ArenaRun): string {
  const { gate, analysis } = run.spec;
  const r = run.decision.results;
  const colourOf = (name: string) => {
    const check = run.decision.checks.find((c) => c.name === name);
    return check === undefined ? UNKNOWN : check.passed ? PASS : FAIL;
  };
  const level = `${Math.round((1 - analysis.alpha) * 100)} %`;
  const win: ForestRow = {
    name: "win rate",
    interval: r.winRate.ci,
    estimate: r.winRate.rate,
    bound: r.winRate.ci[0],
    label: `${fixed(r.winRate.rate)}, bound ${fixed(r.winRate.ci[0])}`,
    colour: colourOf("win rate"),
  };
  const axes: ForestRow[] = r.axes.map((a) => ({
    name: a.axis,
    interval: a.difference.ci,
    estimate: a.difference.meanDiff,
    bound: a.lowerBound,
    label: `${signedFixed(a.difference.meanDiff, 3)}, bound ${signedFixed(a.lowerBound, 3)}`,
    colour: colourOf(`no ${a.axis} regression`),
  }));
  const rowHeight = 52;
  const winTop = 40;
  const axesTop = winTop + rowHeight + 80;
  const height = axesTop + rowHeight * Math.max(1, axes.length) + 50;
  const xAxis = (name: string) => ({
    type: "value" as const,
    name,
    nameLocation: "middle" as const,
    nameGap: 26,
    scale: true,
    splitLine: { lineStyle: { color: "#eef0f3" } },
  });
  const yAxis = (names: string[]) => ({
    type: "category" as const,
    data: names,
    inverse: true,
    axisTick: { show: false },
    axisLabel: { fontSize: 13, color: "#1f2328" },
  });
  const option: Option = {
    animation: false,
    backgroundColor: "#ffffff",
    textStyle: { fontFamily: "sans-serif" },
    grid: [
      { left: 160, right: 40, top: winTop, height: rowHeight },
      { left: 160, right: 40, top: axesTop, height: rowHeight * Math.max(1, axes.length) },
    ],
    xAxis: [
      { ...xAxis(`win rate (ties ½), ${level} interval`), gridIndex: 0 },
      { ...xAxis(`treatment − control, rubric points, ${level} one-sided bound`), gridIndex: 1 },
    ],
    yAxis: [
      { ...yAxis([win.name]), gridIndex: 0 },
      { ...yAxis(axes.map((a) => a.name)), gridIndex: 1 },
    ],
    series: [
      ...forestSeries(
        [win],
        0,
        { value: gate.minWinRateLowerBound, label: `needs > ${gate.minWinRateLowerBound}` },
        [0, 1],
      ),
      ...forestSeries(
        axes,
        1,
        { value: -gate.maxAxisRegression, label: `needs ≥ −${gate.maxAxisRegression}` },
        [0],
      ),
    ],
  };
  const chart = init(null, null, { renderer: "svg", ssr: true, width: CHART_WIDTH, height });
  try {
    chart.setOption(option);
    return chart.renderToSVGString();
  } finally {
    // An undisposed SSR chart keeps a timer alive and the process from exiting.
    chart.dispose();
  }
}
