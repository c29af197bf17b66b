import { beforeAll, describe, expect, it } from "vitest";
import type { ChartId } from "../../../local/report/charts.ts";
import { escapeHtml, renderReportHtml } from "../../../local/report/html.ts";
import {
  EVENT_COLOURS,
  SCENARIO_MARKER_COLOUR,
  VERDICT_COLOURS,
  variantColours,
} from "../../../local/report/palette.ts";
import type { ChartSeries, DemoResult } from "../../../local/run-result.ts";
import type { Verdict } from "../../../stats/decision.ts";
import { demoResultFixture } from "../demo-result-fixture.ts";

let fixture: DemoResult;
let html: string;
beforeAll(async () => {
  fixture = await demoResultFixture();
  html = renderReportHtml(fixture);
});

/** The markup of the element with this id, up to its closing </figure>. */
function figureOf(page: string, id: ChartId): string {
  const start = page.indexOf(`<figure id="${id}"`);
  expect(start, `no element with id ${id}`).toBeGreaterThanOrEqual(0);
  return page.slice(start, page.indexOf("</figure>", start));
}

/** The drawn data lines of an echarts SVG: paths inside the plot's clip group. */
function dataPaths(svg: string): { d: string; stroke: string; dashed: boolean }[] {
  const re = /<g clip-path="url\(#[^)]+\)">\s*<path d="([^"]*)"[^>]*?stroke="([^"]+)"([^>]*)>/g;
  return [...svg.matchAll(re)].map((m) => ({
    d: m[1]!,
    stroke: m[2]!,
    dashed: /stroke-dasharray/.test(m[3]!),
  }));
}

const chartsOf = (r: DemoResult): Record<ChartId, readonly ChartSeries[]> => ({
  "chart-ttft": r.charts.ttftP95,
  "chart-itl": r.charts.itlP95,
  "chart-split": r.charts.split,
  "chart-requests": r.charts.requestRate,
  "chart-errors": r.charts.errorRate,
});

/** Two adjacent non-null points: echarts draws a segment. */
const hasSegment = (s: ChartSeries) =>
  s.points.some(([, y], i) => y !== null && (s.points[i + 1]?.[1] ?? null) !== null);

describe("renderReportHtml", () => {
  it("shows the verdict as a badge coloured by verdict, with its reasons", () => {
    expect(html).toMatch(/<div class="badge v-hold">hold<\/div>/);
    expect(html).toContain(`.badge.v-hold{background:${VERDICT_COLOURS.hold.background}`);
    for (const reason of fixture.reasons) expect(html).toContain(escapeHtml(reason));
    expect(html).toContain(escapeHtml(fixture.scenario.title));
  });

  it.each<[Verdict, string]>([
    ["ship", "v-ship"],
    ["hold", "v-hold"],
    ["rollback", "v-rollback"],
    ["keep running", "v-keep-running"],
    ["inconclusive", "v-inconclusive"],
  ])("gives the %s verdict the badge class %s", (verdict, cls) => {
    const page = renderReportHtml({ ...fixture, verdict });
    expect(page).toContain(`<div class="badge ${cls}">${verdict}</div>`);
  });

  it("draws every series with two adjacent samples in its variant's colour, cold dashed", () => {
    const colours = variantColours(fixture.control, fixture.treatment);
    for (const [id, series] of Object.entries(chartsOf(fixture)) as [ChartId, readonly ChartSeries[]][]) {
      const figure = figureOf(html, id);
      expect(figure, id).toMatch(/<svg [^>]*viewBox/);
      const paths = dataPaths(figure);
      for (const s of series.filter(hasSegment)) {
        const drawn = paths.filter(
          (p) =>
            p.stroke === colours.get(s.variant) && p.dashed === (s.replicaState === "cold") && /L/.test(p.d),
        );
        expect(drawn.length, `${id}: ${s.variant} ${s.replicaState ?? ""}`).toBeGreaterThan(0);
      }
    }
  });

  it("marks each guardrail event and scenario change on every chart", () => {
    for (const id of Object.keys(chartsOf(fixture)) as ChartId[]) {
      const figure = figureOf(html, id);
      expect(figure, id).toContain(">pause · LlmAbGuardrailTtftP95SecondsWarm</text>");
      expect(figure, id).toContain(">treatment TTFT ×3</text>");
      // A vertical line: same x at both ends.
      expect(figure, id).toMatch(
        new RegExp(`d="M([\\d.]+) [\\d.]+L\\1 [\\d.]+"[^>]*stroke="${EVENT_COLOURS.pause}"`),
      );
      expect(figure, id).toMatch(
        new RegExp(`d="M([\\d.]+) [\\d.]+L\\1 [\\d.]+"[^>]*stroke="${SCENARIO_MARKER_COLOUR}"`),
      );
    }
  });

  it("lists the guardrail events as table rows", () => {
    const rows = [...html.matchAll(/<tr class="event">(.*?)<\/tr>/g)].map((m) => m[1]!);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/62 s.*pause.*LlmAbGuardrailTtftP95SecondsWarm.*treatment/);
  });

  it("draws the guardrail ceiling on the TTFT chart and the configured split on the split chart", () => {
    expect(figureOf(html, "chart-ttft")).toContain(">ceiling 2 s</text>");
    expect(figureOf(html, "chart-split")).toContain(">configured 50 / 50</text>");
  });

  it("holds the verdict table: one row per metric, the split check and the progress", () => {
    const analysis = fixture.analysis!;
    for (const m of analysis.metrics) expect(html).toContain(`<td><strong>${m.name}</strong></td>`);
    expect(html).toMatch(/<td class="good">win<\/td>/);
    expect(html).toMatch(/id="srm">Split: control 300/);
    expect(html).toMatch(/id="design">Progress: \d+ % of the planned information, fixed horizon/);
  });

  it("says why there is no verdict table when the analysis could not run", () => {
    const { analysis: _dropped, ...rest } = fixture;
    const reason = "The event log holds no outcomes: no unit reached the split.";
    const page = renderReportHtml({ ...rest, verdict: "inconclusive", reasons: [reason] });
    expect(page).toContain("No analysis of the router's event log could run");
    expect(page).toContain(escapeHtml(reason));
    expect(page).not.toContain('id="srm"');
  });

  it("escapes hostile text from scenario files and alert names", () => {
    const hostile: DemoResult = {
      ...fixture,
      scenario: {
        name: 'x"><script>alert(1)</script>',
        title: "<img src=x onerror=alert(1)>",
        story: "</p><script>alert('story')</script>",
      },
      reasons: ["<iframe src=javascript:alert(1)>"],
      events: [
        { t: 30, action: "rollback", alert: "<b onmouseover=alert(1)>Evil</b>&", variant: "<i>t</i>" },
      ],
      markers: [{ t: 20, label: "</svg><script>alert('marker')</script>" }],
      files: { report: "/tmp/<script>/report.html", events: "/tmp/a&b/events.jsonl" },
    };
    const page = renderReportHtml(hostile);
    expect(page).not.toMatch(/<(script|img|iframe|b |i>)/i);
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(page).toContain("&lt;/p&gt;&lt;script&gt;alert(&#39;story&#39;)&lt;/script&gt;");
    expect(page).toContain("&lt;b onmouseover=alert(1)&gt;Evil&lt;/b&gt;&amp;");
    expect(page).toContain("/tmp/a&amp;b/events.jsonl");
    // Inside the SVG too: echarts escapes label text.
    expect(figureOf(page, "chart-ttft")).toContain("&lt;/svg&gt;&lt;script&gt;");
  });

  it("is self-contained: no script, no external resource", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|<link\b|<img\b|<iframe\b/i);
    expect(html.startsWith("<!doctype html>")).toBe(true);
  });
});
