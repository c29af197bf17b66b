import { describe, expect, it } from "vitest";
import { type LineSpec, lineChartSvg } from "../../../local/report/line-chart.ts";

const BLUE = "#1f6fd1";

function chart(points: LineSpec["points"], dashed = false): string {
  return lineChartSvg({
    lines: [{ name: "control warm", colour: BLUE, dashed, points }],
    marks: [],
    tMax: 100,
    yFormat: String,
  });
}

/** The `d` of the series line (inside the plot's clip group) drawn in `colour`. */
function lineOf(svg: string, colour: string): string {
  const re = /<g clip-path="url\(#[^)]+\)">\s*<path d="([^"]*)"[^>]*?stroke="([^"]+)"/g;
  const match = [...svg.matchAll(re)].find((m) => m[2] === colour);
  expect(match, `no line in ${colour}`).toBeDefined();
  return match![1]!;
}

const moves = (d: string) => d.match(/M/g)?.length ?? 0;

describe("lineChartSvg", () => {
  it.each<[string, LineSpec["points"], number]>([
    [
      "a complete series is one stroke",
      [
        [0, 1],
        [10, 2],
        [20, 3],
        [30, 4],
      ],
      1,
    ],
    [
      "a null in the middle breaks the line in two",
      [
        [0, 1],
        [10, 2],
        [20, null],
        [30, 3],
        [40, 4],
      ],
      2,
    ],
    [
      "two separate gaps make three strokes",
      [
        [0, 1],
        [10, 2],
        [20, null],
        [30, 3],
        [40, 3],
        [50, null],
        [60, 1],
        [70, 2],
      ],
      3,
    ],
  ])("%s", (_name, points, strokes) => {
    const d = lineOf(chart(points), BLUE);
    expect(moves(d)).toBe(strokes);
  });

  it("does not draw a null sample as zero", () => {
    // Values 10 and 20 only: a null drawn as zero would pull the line to the bottom of the plot.
    const svg = chart([
      [0, 10],
      [10, 20],
      [20, null],
      [30, 20],
      [40, 10],
    ]);
    const ys = [...lineOf(svg, BLUE).matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => Number(m[2]));
    expect(ys).toHaveLength(4);
    const baseline = Math.max(
      ...[...svg.matchAll(/<path d="M[\d.]+ ([\d.]+)L[\d.]+ \1"[^>]*stroke="#54555a"/g)].map((m) =>
        Number(m[1]),
      ),
    );
    for (const y of ys) expect(y).toBeLessThan(baseline - 1);
  });

  it("gives a sample between two gaps a dot, since it has no neighbour to draw a line to", () => {
    const svg = chart([
      [0, 1],
      [10, null],
      [20, 2],
      [30, null],
      [40, 3],
      [50, 4],
    ]);
    expect(svg).toMatch(new RegExp(`<path d="M1 0A1 1[^"]*"[^>]*fill="${BLUE}"`));
  });

  it("dashes a dashed line", () => {
    const svg = chart(
      [
        [0, 1],
        [10, 2],
      ],
      true,
    );
    expect(svg).toMatch(new RegExp(`stroke="${BLUE}"[^>]*stroke-dasharray`));
  });

  it("says so when a chart has no sample at all", () => {
    expect(
      chart([
        [0, null],
        [10, null],
      ]),
    ).toContain(">no samples in this run</text>");
  });
});
