import { beforeAll, describe, expect, it } from "vitest";
import { renderCharts, sharedTimeRange, timeMarks } from "../../../local/report/charts.ts";
import { EVENT_COLOURS, SCENARIO_MARKER_COLOUR } from "../../../local/report/palette.ts";
import type { DemoResult } from "../../../local/run-result.ts";
import { demoResultFixture, ONSET, PAUSE } from "../demo-result-fixture.ts";

describe("sharedTimeRange", () => {
  const base = {
    durationSeconds: 120,
    events: [],
    markers: [],
    charts: { ttftP95: [], itlP95: [], split: [], requestRate: [], errorRate: [] },
  } as unknown as DemoResult;

  it.each<[string, Partial<DemoResult>, number]>([
    ["is the run's duration when nothing happened later", {}, 120],
    [
      "stretches to an event after the traffic ended",
      { events: [{ t: 131.2, action: "review", alert: "A" }] },
      132,
    ],
    [
      "stretches to the last sample",
      { charts: { ...base.charts, errorRate: [{ variant: "control", points: [[140, 0]] }] } },
      140,
    ],
  ])("%s", (_name, change, tMax) => {
    expect(sharedTimeRange({ ...base, ...change })).toBe(tMax);
  });
});

describe("renderCharts", () => {
  let fixture: DemoResult;
  beforeAll(async () => {
    fixture = await demoResultFixture();
  });

  it("renders the five charts in reading order, each an SVG", () => {
    const charts = renderCharts(fixture);
    expect(charts.map((c) => c.id)).toEqual([
      "chart-ttft",
      "chart-itl",
      "chart-split",
      "chart-requests",
      "chart-errors",
    ]);
    for (const c of charts) expect(c.svg).toMatch(/^<svg [^>]*viewBox="0 0 \d+ \d+"/);
  });

  it("draws the TTFT ceiling only when the guardrail has one, and says what the guardrail allows", () => {
    const [withCeiling] = renderCharts(fixture);
    expect(withCeiling!.svg).toContain(">ceiling 2 s</text>");
    expect(withCeiling!.caption).toContain("a ceiling of 2 s and at most 25 % over control");
    const [relativeOnly] = renderCharts({ ...fixture, ttftLimit: { relativeMax: 0.25 } });
    expect(relativeOnly!.svg).not.toContain("ceiling");
    expect(relativeOnly!.caption).toContain("at most 25 % over control");
  });

  it("labels guardrail events with action and alert, and scenario changes with their label", () => {
    expect(timeMarks(fixture)).toEqual([
      { t: ONSET, label: "treatment TTFT ×3", colour: SCENARIO_MARKER_COLOUR, kind: "scenario" },
      {
        t: PAUSE,
        label: "pause · LlmAbGuardrailTtftP95SecondsWarm",
        colour: EVENT_COLOURS.pause,
        kind: "event",
      },
    ]);
  });
});
