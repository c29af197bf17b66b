/**
 * The run's final word. A guardrail that acted outranks the statistics: a rolled-back treatment
 * is a rollback and a paused one is held, whatever its outcomes looked like (the live guardrails
 * measured harm the outcome metrics do not see). Otherwise the analysis of the event log decides.
 * Review alerts never change the verdict; they are listed as reasons to look.
 */
import type { AnalysisReport } from "../analysis/analyze.ts";
import type { StateRecord } from "../router/store/types.ts";
import type { Verdict } from "../stats/decision.ts";
import type { DemoEvent } from "./run-result.ts";

export interface FinalVerdict {
  readonly verdict: Verdict;
  readonly reasons: readonly string[];
}

function alertList(events: readonly DemoEvent[], action: DemoEvent["action"]): string {
  const names = [...new Set(events.filter((e) => e.action === action).map((e) => e.alert))];
  return names.length === 0 ? "" : ` (${names.join(", ")})`;
}

function firstAt(events: readonly DemoEvent[], action: DemoEvent["action"]): string {
  const first = events.find((e) => e.action === action);
  return first === undefined ? "" : ` at ${first.t.toFixed(1)} s`;
}

export function finalVerdict(
  state: StateRecord,
  events: readonly DemoEvent[],
  analysis: AnalysisReport | undefined,
  analysisError: string | undefined,
): FinalVerdict {
  const reasons: string[] = [];
  let verdict: Verdict;
  if (state.state === "rolled_back") {
    verdict = "rollback";
    reasons.push(
      `the router rolled the treatment back${firstAt(events, "rollback")}${alertList(events, "rollback")}: every unit is served by control until a person resumes`,
    );
  } else if (state.state === "paused") {
    verdict = "hold";
    reasons.push(
      `the router paused the treatment${firstAt(events, "pause")}${alertList(events, "pause")}: it stays paused until a person looks and resumes`,
    );
  } else if (analysis !== undefined) {
    verdict = analysis.verdict;
  } else {
    verdict = "inconclusive";
  }
  if (analysis !== undefined) {
    const prefix = state.state === "active" ? "" : "analysis of the event log: ";
    reasons.push(...analysis.reasons.map((reason) => `${prefix}${reason}`));
  } else if (analysisError !== undefined) {
    reasons.push(`the event log could not be analysed: ${analysisError}`);
  }
  for (const event of events.filter((e) => e.action === "review")) {
    reasons.push(
      `review: ${event.alert} fired at ${event.t.toFixed(1)} s; a person should look before ramping up`,
    );
  }
  return { verdict, reasons };
}
