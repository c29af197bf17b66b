/**
 * A realistic finished demo run for report tests: the `latency-regression` story. The treatment
 * (a support fine-tune) resolves more conversations, but 48 s in its replicas get three times
 * slower to the first token; the warm-TTFT guardrail pauses it at 62 s, so the run ends on
 * `hold` with the router paused. The series have what Prometheus really returns: warm latency
 * missing while replicas are still cold, cold latency only at the start, the treatment's lines
 * ending in gaps once it gets no traffic. The analysis is the real `runAnalysis` of the shared
 * demo spec on seeded unit-level data.
 */
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runAnalysis } from "../../analysis/analyze.ts";
import type { ChartSeries, DemoResult } from "../../local/run-result.ts";
import { loadSpecFile } from "../../spec/load.ts";
import { seededUniform, tempDir, writeJsonl } from "../helpers/unit-data.ts";

export const FIXTURE_DURATION = 120;
export const ONSET = 48;
export const PAUSE = 62;
const STEP = 2;

type Point = readonly [number, number | null];

/** One point every STEP seconds; `f` returns null where Prometheus had no sample. */
function series(f: (t: number) => number | null): Point[] {
  const points: Point[] = [];
  for (let t = 0; t <= FIXTURE_DURATION; t += STEP) points.push([t, f(t)]);
  return points;
}

function charts(seed: number): DemoResult["charts"] {
  const u = seededUniform(seed);
  const noise = (x: number, spread = 0.08) => +(x * (1 + spread * (2 * u() - 1))).toFixed(4);
  // The p95 over a 10 s window follows the onset with a lag, and stops once the pause starves it.
  const slowdown = (t: number) => (t <= ONSET ? 1 : 1 + 2 * Math.min(1, (t - ONSET) / 10));
  const treatmentLive = (t: number) => t <= PAUSE + 4;
  const line = (variant: string, points: Point[], replicaState?: "warm" | "cold"): ChartSeries => ({
    variant,
    ...(replicaState ? { replicaState } : {}),
    points,
  });
  return {
    ttftP95: [
      line(
        "control",
        series((t) => (t < 10 ? null : noise(0.34))),
        "warm",
      ),
      line(
        "control",
        series((t) => (t >= 2 && t <= 12 ? noise(0.95) : null)),
        "cold",
      ),
      line(
        "treatment",
        series((t) => (t < 10 || !treatmentLive(t) ? null : noise(0.36 * slowdown(t)))),
        "warm",
      ),
      // A lone cold sample at 30 s (a replica back from idle): a dot between gaps.
      line(
        "treatment",
        series((t) => ((t >= 2 && t <= 12) || t === 30 ? noise(1.02) : null)),
        "cold",
      ),
    ],
    itlP95: [
      line(
        "control",
        series((t) => (t < 10 ? null : noise(0.021))),
        "warm",
      ),
      line(
        "control",
        series((t) => (t >= 2 && t <= 12 ? noise(0.046) : null)),
        "cold",
      ),
      line(
        "treatment",
        series((t) => (t < 10 || !treatmentLive(t) ? null : noise(0.022))),
        "warm",
      ),
      line(
        "treatment",
        series((t) => (t >= 2 && t <= 12 ? noise(0.049) : null)),
        "cold",
      ),
    ],
    split: (() => {
      const treatmentShare = (t: number) =>
        t <= PAUSE ? noise(0.5, 0.06) : Math.max(0, 0.5 - (t - PAUSE) / 20);
      const shares = series((t) => (t < 2 ? null : +treatmentShare(t).toFixed(4)));
      return [
        line(
          "control",
          shares.map(([t, s]) => [t, s === null ? null : +(1 - s).toFixed(4)]),
        ),
        line("treatment", shares),
      ];
    })(),
    requestRate: [
      line(
        "control",
        series((t) => (t < 2 ? null : noise(t <= PAUSE ? 8 : 16, 0.1))),
      ),
      line(
        "treatment",
        series((t) => (t < 2 ? null : t <= PAUSE ? noise(8, 0.1) : Math.max(0, 8 - (t - PAUSE)))),
      ),
    ],
    errorRate: [
      line(
        "control",
        series((t) => (t < 2 ? null : noise(0.002, 0.5))),
      ),
      line(
        "treatment",
        series((t) => (t < 2 || t > PAUSE + 8 ? null : noise(0.003, 0.5))),
      ),
    ],
  };
}

/** Unit-level outcomes of the demo's conversations: the fine-tune resolves 13 points more. */
function units(seed: number) {
  const u = seededUniform(seed);
  const arms = {
    control: { n: 300, resolution: 0.55, csat: 3.8 },
    treatment: { n: 300, resolution: 0.68, csat: 4.0 },
  };
  return Object.entries(arms).flatMap(([variant, arm]) =>
    Array.from({ length: arm.n }, (_, i) => ({
      unit: `${variant}-c${i}`,
      variant,
      metrics: {
        resolution_rate: u() < arm.resolution ? 1 : 0,
        csat: Math.min(5, Math.max(1, Math.round(arm.csat + 2.4 * (u() + u() - 1)))),
      },
    })),
  );
}

/** The finished `latency-regression` run, deterministic for a seed. */
export async function demoResultFixture(seed = 11): Promise<DemoResult> {
  const spec = await loadSpecFile(
    fileURLToPath(new URL("../../examples/support-bot-fine-tune.yaml", import.meta.url)),
  );
  const dir = tempDir("llm-ab-report-fixture-");
  try {
    const analysis = await runAnalysis(spec, writeJsonl(dir, "units.jsonl", units(seed)));
    return {
      scenario: {
        name: "latency-regression",
        title: "Latency regression: the fine-tune slows down mid-run",
        story:
          "The fine-tune resolves more conversations, but 40 % into the run its replicas take three times longer to the first token.\nThe warm TTFT guardrail should pause it within two evaluation windows, before users notice.",
      },
      experiment: spec.name,
      control: "control",
      treatment: "treatment",
      startedAt: "2026-11-27T14:00:00.000Z",
      durationSeconds: FIXTURE_DURATION,
      verdict: "hold",
      reasons: [
        `LlmAbGuardrailTtftP95SecondsWarm paused the treatment at ${PAUSE} s: its warm p95 time to first token was more than 25 % above control for two windows.`,
        ...analysis.reasons,
      ],
      routerState: "paused",
      events: [
        { t: PAUSE, action: "pause", alert: "LlmAbGuardrailTtftP95SecondsWarm", variant: "treatment" },
      ],
      markers: [{ t: ONSET, label: "treatment TTFT ×3" }],
      charts: charts(seed),
      traffic: {
        conversations: 600,
        requests: 1984,
        requestsByVariant: { control: 1462, treatment: 522 },
        failedRequests: 5,
        outcomesSent: 600,
        outcomesRefused: 0,
      },
      analysis,
      ttftLimit: { max: 2, relativeMax: 0.25 },
      files: {
        report: "/tmp/llm-ab-demo/latency-regression/report.html",
        events: "/tmp/llm-ab-demo/latency-regression/events.jsonl",
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
