import { beforeAll, describe, expect, it } from "vitest";
import type { AnalysisReport } from "../../analysis/analyze.ts";
import type { DemoEvent } from "../../local/run-result.ts";
import { finalVerdict } from "../../local/verdict.ts";
import type { StateRecord } from "../../router/store/types.ts";
import type { Verdict } from "../../stats/decision.ts";
import { demoResultFixture } from "./demo-result-fixture.ts";

const TTFT = "LlmAbGuardrailTtftP95SecondsWarm";
const COLD = "LlmAbGuardrailTtftP95SecondsCold";
const ERRORS = "LlmAbGuardrailErrorRate";

const active: StateRecord = { state: "active", version: 0, changedAt: 0 };
const paused: StateRecord = {
  state: "paused",
  version: 1,
  changedAt: 1,
  reason: `alertmanager: ${TTFT} (pause)`,
};
const rolledBack: StateRecord = {
  state: "rolled_back",
  version: 2,
  changedAt: 2,
  reason: `alertmanager: ${ERRORS} (rollback)`,
};

const pause: DemoEvent = { t: 62.25, action: "pause", alert: TTFT, variant: "treatment" };
const rollback: DemoEvent = { t: 71, action: "rollback", alert: ERRORS, variant: "treatment" };
const review: DemoEvent = { t: 50.04, action: "review", alert: COLD, variant: "treatment" };

let analysis: AnalysisReport;
beforeAll(async () => {
  const fixture = await demoResultFixture();
  if (fixture.analysis === undefined) throw new Error("the fixture has no analysis");
  analysis = fixture.analysis;
});

/** The fixture's analysis with another verdict and reasons. */
function analysisSaying(verdict: Verdict, ...reasons: string[]): AnalysisReport {
  return { ...analysis, verdict, reasons };
}

describe("finalVerdict", () => {
  it.each(["ship", "hold", "keep running", "inconclusive"] as const)(
    "makes a rollback outrank an analysis that says %s, naming when and which alert",
    (analysed) => {
      const result = finalVerdict(
        rolledBack,
        [pause, rollback],
        analysisSaying(analysed, "resolution_rate is up"),
        undefined,
      );
      expect(result.verdict).toBe("rollback");
      expect(result.reasons).toEqual([
        `the router rolled the treatment back at 71.0 s (${ERRORS}): every unit is served by control until a person resumes`,
        "analysis of the event log: resolution_rate is up",
      ]);
    },
  );

  it.each(["ship", "rollback", "keep running", "inconclusive"] as const)(
    "makes a pause hold whatever the analysis says (%s), naming when and which alerts",
    (analysed) => {
      const second: DemoEvent = { ...pause, t: 64, alert: COLD };
      const result = finalVerdict(paused, [pause, second], analysisSaying(analysed), undefined);
      expect(result.verdict).toBe("hold");
      expect(result.reasons).toEqual([
        `the router paused the treatment at 62.3 s (${TTFT}, ${COLD}): it stays paused until a person looks and resumes`,
      ]);
    },
  );

  it("names the first pause when an alert paused twice and does not repeat its name", () => {
    const result = finalVerdict(paused, [pause, { ...pause, t: 90 }], undefined, undefined);
    expect(result.reasons[0]).toBe(
      `the router paused the treatment at 62.3 s (${TTFT}): it stays paused until a person looks and resumes`,
    );
  });

  it("says the router acted even when no event explains it", () => {
    const result = finalVerdict(rolledBack, [], undefined, undefined);
    expect(result.verdict).toBe("rollback");
    expect(result.reasons).toEqual([
      "the router rolled the treatment back: every unit is served by control until a person resumes",
    ]);
  });

  it("takes the analysis verdict and its reasons as they are when the treatment stayed active", () => {
    const result = finalVerdict(active, [], analysis, undefined);
    expect(result.verdict).toBe(analysis.verdict);
    expect(result.reasons).toEqual(analysis.reasons);
  });

  it.each(["ship", "hold", "rollback", "keep running", "inconclusive"] as const)(
    "passes an active run's analysis verdict %s through",
    (analysed) => {
      expect(finalVerdict(active, [], analysisSaying(analysed, "why"), undefined)).toEqual({
        verdict: analysed,
        reasons: ["why"],
      });
    },
  );

  it("is inconclusive with the error when the event log could not be analysed", () => {
    const result = finalVerdict(active, [], undefined, "no outcome events in events.jsonl");
    expect(result).toEqual({
      verdict: "inconclusive",
      reasons: ["the event log could not be analysed: no outcome events in events.jsonl"],
    });
  });

  it("keeps the live action and adds the analysis error after it", () => {
    const result = finalVerdict(paused, [pause], undefined, "DuckDB failed");
    expect(result.verdict).toBe("hold");
    expect(result.reasons).toHaveLength(2);
    expect(result.reasons[1]).toBe("the event log could not be analysed: DuckDB failed");
  });

  it.each([
    { state: active, analysed: analysisSaying("ship", "resolution_rate is up"), verdict: "ship" },
    { state: paused, analysed: analysisSaying("ship"), verdict: "hold" },
    { state: active, analysed: undefined, verdict: "inconclusive" },
  ] as const)(
    "lists review alerts as reasons last without changing the verdict ($verdict)",
    ({ state, analysed, verdict }) => {
      const events = state.state === "paused" ? [review, pause] : [review];
      const without = finalVerdict(
        state,
        events.filter((e) => e.action !== "review"),
        analysed,
        undefined,
      );
      const result = finalVerdict(state, events, analysed, undefined);
      expect(result.verdict).toBe(verdict);
      expect(without.verdict).toBe(verdict);
      expect(result.reasons).toEqual([
        ...without.reasons,
        `review: ${COLD} fired at 50.0 s; a person should look before ramping up`,
      ]);
    },
  );

  it("lists every review alert in the order of the events", () => {
    const later: DemoEvent = { t: 80, action: "review", alert: "LlmAbSampleRatioMismatch" };
    const result = finalVerdict(active, [review, later], analysisSaying("ship"), undefined);
    expect(result.reasons).toEqual([
      `review: ${COLD} fired at 50.0 s; a person should look before ramping up`,
      "review: LlmAbSampleRatioMismatch fired at 80.0 s; a person should look before ramping up",
    ]);
  });
});
