import { beforeAll, describe, expect, it } from "vitest";
import { renderTerminalSummary } from "../../../local/report/terminal.ts";
import type { DemoResult } from "../../../local/run-result.ts";
import { demoResultFixture, ONSET, PAUSE } from "../demo-result-fixture.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes
const ANSI = /\x1b\[/;

let fixture: DemoResult;
beforeAll(async () => {
  fixture = await demoResultFixture();
});

describe("renderTerminalSummary", () => {
  it("opens with the verdict and its reasons", () => {
    const lines = renderTerminalSummary(fixture).split("\n");
    expect(lines[0]).toMatch(/^ HOLD {2}Latency regression/);
    expect(lines[1]).toBe(`  - ${fixture.reasons[0]}`);
  });

  it("lists guardrail events and scenario changes in time order", () => {
    const text = renderTerminalSummary(fixture);
    const change = text.indexOf(`${ONSET} s  scenario  treatment TTFT ×3`);
    const pause = text.indexOf(`${PAUSE} s  pause     LlmAbGuardrailTtftP95SecondsWarm  (treatment)`);
    expect(change).toBeGreaterThan(0);
    expect(pause).toBeGreaterThan(change);
  });

  it("holds the metric table, the split check, the traffic and the report path", () => {
    const text = renderTerminalSummary(fixture);
    expect(text).toMatch(/│ resolution_rate\s+│ primary\s+│ 55\.0 % \(n 300\)/);
    expect(text).toContain("Split: control 300 (expected 300)");
    expect(text).toContain("1,984 requests (control 1,462 · treatment 522), 5 failed (0.3 %)");
    expect(text).toContain("Router: paused");
    expect(text).toContain(`Report: ${fixture.files.report}`);
    expect(text.endsWith("\n")).toBe(false);
  });

  it("is plain text without color and coloured with it", () => {
    expect(renderTerminalSummary(fixture, { color: false })).not.toMatch(ANSI);
    expect(renderTerminalSummary(fixture)).not.toMatch(ANSI);
    expect(renderTerminalSummary(fixture, { color: true })).toMatch(ANSI);
  });

  it("says there is no metric table when the analysis could not run", () => {
    const { analysis: _dropped, ...rest } = fixture;
    const text = renderTerminalSummary({ ...rest, events: [] });
    expect(text).toContain("No analysis of the event log: see the reasons above.");
    expect(text).toContain("none: no guardrail acted");
    expect(text).not.toContain("│");
  });
});
