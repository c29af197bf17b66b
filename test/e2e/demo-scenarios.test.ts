/**
 * Every shipped scenario, end to end: real Prometheus, Alertmanager and Redis, the router, the
 * simulator and the traffic generator, through the `llm-ab demo` command. Durations are short
 * (and the rate higher where the verdict needs the planned sample), so CI stays in minutes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scrapeInterval } from "../../local/prometheus-config.ts";
import { alertmanagerTimings, durationMs, timing } from "../../monitoring/config.ts";
import { loadSpecFile } from "../../spec/load.ts";
import { type DemoRun, runDemoCli } from "./demo-helpers.ts";

const outRoot = mkdtempSync(join(tmpdir(), "llm-ab-e2e-"));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

const spec = await loadSpecFile(join(import.meta.dirname, "../../examples/support-bot-fine-tune.yaml"));

async function demo(scenario: string, ...args: string[]): Promise<DemoRun> {
  return await runDemoCli(["--scenario", scenario, ...args], join(outRoot, scenario));
}

function actions(run: DemoRun): string[] {
  return run.json.events.map((e) => e.action);
}

/** The report exists, is one self-contained file, and states the verdict. */
function expectReport(run: DemoRun): void {
  expect(run.json.report).toBe(join(outRoot, run.json.scenario, "report.html"));
  expect(existsSync(run.json.report)).toBe(true);
  const html = readFileSync(run.json.report, "utf8");
  expect(html).toContain(run.json.verdict);
  expect(html).toContain("<svg");
}

describe("llm-ab demo scenarios", () => {
  it("winner: no guardrail acts and the verdict is ship", async () => {
    const run = await demo("winner", "--duration", "45s", "--rate", "14");
    expect(run.json.scenario).toBe("winner");
    expect(actions(run)).not.toContain("pause");
    expect(actions(run)).not.toContain("rollback");
    expect(run.result.routerState).toBe("active");
    expect(run.json.verdict).toBe("ship");
    expectReport(run);
  });

  it("latency-regression: the warm TTFT guardrail pauses the treatment within windows + 1 evaluations of the onset", async () => {
    const run = await demo("latency-regression", "--duration", "40s");
    const pause = run.json.events.find((e) => e.action === "pause");
    expect(pause?.alert).toBe("LlmAbGuardrailTtftP95SecondsWarm");
    const onset = run.result.markers[0]?.t ?? Number.NaN;
    expect(onset).toBeCloseTo(16, 5);
    // Prometheus fires within (windows + 1) evaluations of the breach showing in its data: the
    // first evaluation that sees it, then `windows` more for the `for:` hold. The breach shows
    // once 5 % of the window's requests are regressed (a p95) and scraped; after the firing come
    // Alertmanager's group_wait, the webhook, and the regressed requests' own first tokens, given
    // 1.5 s together.
    const guardrail = spec.metrics.guardrails.find((g) => g.name === "ttft_p95_seconds");
    const local = timing(spec, "local");
    const interval = durationMs(local.interval) / 1000;
    const bound =
      ((guardrail?.windows ?? 0) + 1) * interval +
      0.05 * (durationMs(local.window) / 1000) +
      durationMs(scrapeInterval(spec)) / 1000 +
      durationMs(alertmanagerTimings.local.groupWait) / 1000 +
      1.5;
    expect(pause?.t).toBeGreaterThan(onset);
    expect((pause?.t ?? Number.POSITIVE_INFINITY) - onset).toBeLessThanOrEqual(bound);
    expect(run.result.routerState).toBe("paused");
    expect(run.json.verdict).toBe("hold");
    expectReport(run);
  });

  it("cold-start: the treatment's slow new replica raises a review, never a pause, and the better model ships", async () => {
    const run = await demo("cold-start", "--duration", "45s", "--rate", "14");
    expect(actions(run)).not.toContain("pause");
    expect(actions(run)).not.toContain("rollback");
    const review = run.json.events.find((e) => e.action === "review");
    expect(review?.alert).toBe("LlmAbColdStartTtftP95Seconds");
    expect(review?.t).toBeGreaterThan(run.result.markers[0]?.t ?? Number.NaN);
    expect(run.result.routerState).toBe("active");
    expect(run.json.verdict).toBe("ship");
    expectReport(run);
  });

  it("srm: outcomes lost on one side hold the verdict for a sample-ratio mismatch", async () => {
    const run = await demo("srm", "--duration", "45s", "--rate", "14");
    expect(actions(run)).toEqual([]);
    expect(run.json.verdict).toBe("hold");
    expect(run.result.reasons.join("\n")).toMatch(/sample.ratio|missing/i);
    expectReport(run);
  });

  it("error-spike: the error-rate guardrail rolls the treatment back", async () => {
    const run = await demo("error-spike", "--duration", "40s");
    const rollback = run.json.events.find((e) => e.action === "rollback");
    expect(rollback?.alert).toBe("LlmAbGuardrailErrorRate");
    expect(rollback?.t).toBeGreaterThan(run.result.markers[0]?.t ?? Number.NaN);
    expect(run.result.routerState).toBe("rolled_back");
    expect(run.json.verdict).toBe("rollback");
    expectReport(run);
  });
});
