import { describe, expect, it } from "vitest";
import { renderDashboard } from "../../monitoring/dashboard.ts";
import { parseSpec } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { DELETE, exampleInput, patched } from "../spec/spec-fixtures.ts";

interface PanelJson {
  title: string;
  description: string;
  targets: { expr: string; legendFormat: string }[];
  fieldConfig?: {
    defaults: { thresholds?: { steps: { value: number | null; color: string }[] }; unit?: string };
  };
}

const promptDuel = () => parseSpec(exampleInput("promptDuel"));
const modelSwap = () => parseSpec(exampleInput("modelSwap"));

function panel(
  spec: ExperimentSpec,
  title: string,
  profile: "production" | "local" = "production",
): PanelJson {
  const panels = renderDashboard(spec, { profile }).panels as PanelJson[];
  const found = panels.find((each) => each.title === title);
  if (found === undefined)
    throw new Error(`no panel "${title}"; have: ${panels.map((p) => p.title).join(" | ")}`);
  return found;
}

/** The threshold steps as `[value, colour]` pairs; undefined when the panel has none. */
function steps(found: PanelJson): [number | null, string][] | undefined {
  return found.fieldConfig?.defaults.thresholds?.steps.map(({ value, color }) => [value, color]);
}

describe("dashboard thresholds come from the spec's guardrails", () => {
  it.each([
    [
      "the warm TTFT panel shows the warm TTFT p95 ceiling",
      "Time to first token (TTFT), warm replicas",
      [
        [null, "green"],
        [1.5, "red"],
      ],
    ],
    [
      "the cold TTFT panel has no line: the guardrail judges warm replicas only",
      "Time to first token (TTFT), cold replicas",
      undefined,
    ],
    [
      "the error ratio panel shows the error-rate ceiling",
      "Error ratio",
      [
        [null, "green"],
        [0.001, "red"],
      ],
    ],
    [
      "the guardrail's per-variant panel shows its absolute ceiling",
      "ttft_p95_seconds (warm replicas) → pause: per variant",
      [
        [null, "green"],
        [1.5, "red"],
      ],
    ],
    [
      "the guardrail's ratio panel shows 1 + relativeMax",
      "ttft_p95_seconds (warm replicas) → pause: treatment ÷ control",
      [
        [null, "green"],
        [1.1, "red"],
      ],
    ],
    [
      "a guardrail without an absolute bound draws no line on its value",
      "cost_per_session_usd → review: per variant",
      undefined,
    ],
    [
      "a relative-only guardrail draws its ratio limit",
      "cost_per_session_usd → review: treatment ÷ control",
      [
        [null, "green"],
        [1.1, "red"],
      ],
    ],
  ] as const)("in the prompt duel, %s", (_behaviour, title, expected) => {
    expect(steps(panel(promptDuel(), title))).toEqual(expected);
  });

  it.each([
    [
      "a warm and a cold ceiling land on their own panels (cold)",
      "Time to first token (TTFT), cold replicas",
      [
        [null, "green"],
        [10, "red"],
      ],
    ],
    [
      "a warm and a cold ceiling land on their own panels (warm)",
      "Time to first token (TTFT), warm replicas",
      [
        [null, "green"],
        [2, "red"],
      ],
    ],
    [
      "a higher-is-better outcome has a floor: red below 3.8",
      "csat_score → pause: per variant",
      [
        [null, "red"],
        [3.8, "green"],
      ],
    ],
    [
      "its ratio limit is 1 − relativeMax, red below",
      "csat_score → pause: treatment ÷ control",
      [
        [null, "red"],
        [0.95, "green"],
      ],
    ],
    [
      "the TPOT ceiling is on the warm TPOT panel",
      "Time per output token (TPOT), warm replicas",
      [
        [null, "green"],
        [0.08, "red"],
      ],
    ],
  ] as const)("in the model swap, %s", (_behaviour, title, expected) => {
    expect(steps(panel(modelSwap(), title))).toEqual(expected);
  });

  it("moves a line when the spec's threshold moves, and only then", () => {
    const tighter = parseSpec(
      patched(exampleInput("promptDuel"), [[["metrics", "guardrails", 0, "max"], 1.2]]),
    );
    expect(steps(panel(tighter, "Time to first token (TTFT), warm replicas"))).toEqual([
      [null, "green"],
      [1.2, "red"],
    ]);
    expect(steps(panel(tighter, "Error ratio"))).toEqual([
      [null, "green"],
      [0.001, "red"],
    ]);
  });

  it("marks the SRM z-score at ±z of analysis.srmThreshold, as the SRM alert does (0.001 → 3.2905)", () => {
    expect(steps(panel(promptDuel(), "Sample ratio mismatch (z over 1h)"))).toEqual([
      [null, "red"],
      [-3.2905, "green"],
      [3.2905, "red"],
    ]);
    const looser = parseSpec(patched(exampleInput("promptDuel"), [[["analysis", "srmThreshold"], 0.05]]));
    expect(steps(panel(looser, "Sample ratio mismatch (z over 1h)"))).toEqual([
      [null, "red"],
      [-1.96, "green"],
      [1.96, "red"],
    ]);
  });

  it("splits the SRM threshold over several treatments (Bonferroni), like the SRM alert", () => {
    const three = parseSpec(
      patched(exampleInput("promptDuel"), [
        [["variants", "shorter"], { deployment: "chat-8b", systemPrompt: "Be brief." }],
        [["analysis", "srmThreshold"], 0.05],
      ]),
    );
    // Φ⁻¹(1 − 0.05 / (2 · 2)) = 2.2414
    expect(steps(panel(three, "Sample ratio mismatch (z over 1h)"))).toEqual([
      [null, "red"],
      [-2.2414, "green"],
      [2.2414, "red"],
    ]);
  });

  it("reads guardrails over the window the rules use: 5m in production, 10s in the local stack", () => {
    const title = "error_rate → rollback: per variant";
    expect(panel(promptDuel(), title).targets[0]?.expr).toBe(
      'experiment_variant:llmab_error_rate:ratio_rate5m{experiment="$experiment", variant=~"$variant"}',
    );
    const local = panel(promptDuel(), title, "local");
    expect(local.targets[0]?.expr).toBe(
      'experiment_variant:llmab_error_rate:ratio_rate10s{experiment="$experiment", variant=~"$variant"}',
    );
    expect(local.description).toContain("(for: 4s)");
    expect(panel(promptDuel(), title).description).toContain("(for: 2m)");
    // The SRM check counts new units over twelve guardrail windows.
    expect(panel(promptDuel(), "Sample ratio mismatch (z over 2m)", "local").targets[0]?.expr).toContain(
      "increase2m",
    );
  });

  it("says in each guardrail panel which alert it feeds, what happens on a breach and how much data it needs", () => {
    const { description } = panel(modelSwap(), "error_rate → rollback: per variant");
    expect(description).toContain(
      "Alert LlmAbGuardrailErrorRate: action rollback once a breach holds for 2 evaluation(s) of 1m (for: 2m)",
    );
    expect(description).toContain("fewer than 500 observations per variant is inconclusive");
  });

  it("has two panels per guardrail plus a cold-start review per warm latency guardrail, and no guardrail row without guardrails", () => {
    const titles = (spec: ExperimentSpec) =>
      (renderDashboard(spec).panels as PanelJson[]).map((each) => each.title);
    expect(titles(modelSwap()).filter((title) => title.includes(" → "))).toHaveLength(12);
    expect(titles(modelSwap()).filter((title) => title.includes("cold-start review"))).toEqual([
      "ttft_p95_seconds cold-start review: treatment ÷ control",
      "tpot_p95_seconds cold-start review: treatment ÷ control",
    ]);
    const bare = parseSpec(patched(exampleInput("promptDuel"), [[["metrics", "guardrails"], DELETE]]));
    expect(titles(bare)).not.toContain("Guardrails");
    expect(titles(bare).filter((title) => title.includes(" → "))).toEqual([]);
    expect(steps(panel(bare, "Error ratio"))).toBeUndefined();
  });

  it("starts every guardrail on a line of its own", () => {
    const panels = renderDashboard(modelSwap()).panels as (PanelJson & { gridPos: { x: number } })[];
    for (const each of panels.filter((p) => p.title.endsWith(": per variant") && p.title.includes(" → "))) {
      expect(each.gridPos.x, each.title).toBe(0);
    }
  });

  it("reviews cold starts of a warm latency guardrail against control's cold starts, with its margin", () => {
    const review = panel(promptDuel(), "ttft_p95_seconds cold-start review: treatment ÷ control");
    expect(review.targets[0]?.expr).toBe(
      'experiment_variant_replica_state:llmab_ttft_seconds:p95_rate5m_over_control{experiment="$experiment", replica_state="cold"}',
    );
    expect(steps(review)).toEqual([
      [null, "green"],
      [1.1, "red"],
    ]);
    expect(review.description).toContain("alert LlmAbColdStartTtftP95Seconds (review only)");
  });

  it("falls back to the ceiling for the cold-start review of a guardrail without a margin", () => {
    const spec = parseSpec(
      patched(exampleInput("promptDuel"), [[["metrics", "guardrails", 0, "relativeMax"], DELETE]]),
    );
    const review = panel(spec, "ttft_p95_seconds cold-start review: per variant");
    expect(review.targets[0]?.expr).toBe(
      'experiment_variant_replica_state:llmab_ttft_seconds:p95_rate5m{experiment="$experiment", variant=~"$variant", replica_state="cold"}',
    );
    expect(steps(review)).toEqual([
      [null, "green"],
      [1.5, "red"],
    ]);
  });

  it("shows a warm latency guardrail's ratio on warm replicas only, whatever the variant picker says", () => {
    const expr = panel(modelSwap(), "ttft_p95_seconds (warm replicas) → pause: treatment ÷ control")
      .targets[0]?.expr;
    expect(expr).toBe(
      'experiment_variant_replica_state:llmab_ttft_seconds:p95_rate5m_over_control{experiment="$experiment", replica_state="warm"}',
    );
  });
});
