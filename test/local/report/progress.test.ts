import { describe, expect, it } from "vitest";
import { ansi, visibleLength } from "../../../local/report/ansi.ts";
import { type ProgressSnapshot, progressLine } from "../../../local/report/progress.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes
const ANSI = /\x1b\[/;

const running: ProgressSnapshot = {
  elapsedSeconds: 42.6,
  durationSeconds: 120,
  phase: "traffic",
  requests: 1234,
  requestsByVariant: { control: 640, treatment: 594 },
  failedRequests: 3,
  routerState: "paused",
  firingAlerts: ["LlmAbGuardrailTtftP95SecondsWarm"],
};

describe("progressLine", () => {
  it("shows time left, requests per variant, failures, the router's state and firing alerts", () => {
    const line = progressLine(running);
    expect(line).toContain("42/120 s, 78 s left");
    expect(line).toContain("1,234 requests (control 640 · treatment 594)");
    expect(line).toContain("3 failed");
    expect(line).toContain("router paused");
    expect(line).toContain("firing: LlmAbGuardrailTtftP95SecondsWarm");
    expect(line).not.toMatch(/\n/);
    expect(line).not.toMatch(ANSI);
  });

  it.each<[string, Partial<ProgressSnapshot>, RegExp]>([
    ["fills the bar with the share of time elapsed", { elapsedSeconds: 60 }, /\[######------\]/],
    ["never counts below zero seconds left", { elapsedSeconds: 130 }, /120\/120 s, 0 s left/],
    [
      "names the phase instead of the clock before traffic",
      { phase: "starting", elapsedSeconds: 0 },
      /^\[-+\] starting /,
    ],
    [
      "names the phase once traffic has ended",
      { phase: "analyzing", elapsedSeconds: 121 },
      /^\[#+\] analyzing /,
    ],
    ["says when no alert fires", { firingAlerts: [] }, /no alerts$/],
    ["lists every firing alert", { firingAlerts: ["A", "B"] }, /firing: A, B$/],
  ])("%s", (_name, change, pattern) => {
    expect(progressLine({ ...running, ...change })).toMatch(pattern);
  });

  it("colours on request, and colour codes do not count towards the width", () => {
    const coloured = progressLine(running, { color: true, width: 200 });
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(ansi.pattern, "")).toBe(progressLine(running, { width: 200 }));
  });

  it.each([20, 40, 60, 80, 120])("fits a %i-column terminal, dropping the least important parts", (width) => {
    for (const color of [false, true]) {
      const line = progressLine(running, { color, width });
      expect(visibleLength(line)).toBeLessThan(width);
      expect(line.length).toBeGreaterThan(0);
    }
    // The router's state outlives the alerts when columns run short.
    const narrow = progressLine(running, { width: 60 });
    expect(narrow).toContain("router paused");
    expect(narrow).not.toContain("firing");
  });
});
