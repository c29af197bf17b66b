/**
 * The summary a demo prints when it ends: the verdict and why, what the guardrails did, the
 * metric table, the traffic, and where the HTML report is. Plain text unless `color` is asked
 * for, so it reads the same in a log file.
 */
import Table from "cli-table3";
import type { Verdict } from "../../stats/decision.ts";
import type { DemoResult, TrafficSummary } from "../run-result.ts";
import { ansi, type Paint, paint } from "./ansi.ts";
import { count, percent, seconds } from "./format.ts";
import {
  designSummary,
  intervalNote,
  srmSummary,
  type Tone,
  VERDICT_HEAD,
  verdictRows,
} from "./verdict-table.ts";

const verdictPaint: Record<Verdict, Paint> = {
  ship: ansi.green,
  hold: ansi.yellow,
  rollback: ansi.red,
  "keep running": ansi.grey,
  inconclusive: ansi.grey,
};
const tonePaint: Record<Tone, Paint | undefined> = { good: ansi.green, bad: ansi.red, neutral: undefined };

/** No rule between body rows: four metrics read as one block. */
const compact = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" };

/** "2,430 requests (control 1,300 · treatment 1,130), 4 failed (0.2 %)" and the rest of the traffic. */
export function trafficSentence(traffic: TrafficSummary): string {
  const perVariant = Object.entries(traffic.requestsByVariant)
    .map(([variant, n]) => `${variant} ${count(n)}`)
    .join(" · ");
  const failedShare = traffic.requests > 0 ? ` (${percent(traffic.failedRequests / traffic.requests)})` : "";
  return (
    `${count(traffic.conversations)} conversations, ${count(traffic.requests)} requests` +
    `${perVariant ? ` (${perVariant})` : ""}, ${count(traffic.failedRequests)} failed${failedShare}; ` +
    `${count(traffic.outcomesSent)} outcomes sent, ${count(traffic.outcomesRefused)} refused`
  );
}

/** The end-of-run summary, without a trailing newline. */
export function renderTerminalSummary(result: DemoResult, options: { color?: boolean } = {}): string {
  const c = paint(options.color === true);
  const out: string[] = [];
  const badge = c(ansi.bold, c(verdictPaint[result.verdict], ` ${result.verdict.toUpperCase()} `));
  out.push(
    `${badge} ${result.scenario.title}: ${result.treatment} vs ${result.control} in ${result.experiment}`,
  );
  for (const reason of result.reasons) out.push(`  - ${reason}`);

  out.push("", c(ansi.bold, "Timeline: guardrail events and scenario changes"));
  if (result.events.length === 0) out.push("  none: no guardrail acted");
  // Events and the scenario's changes in one timeline, so cause reads before reaction.
  const timeline = [
    ...result.events.map((e) => ({
      t: e.t,
      text: `${c(e.action === "review" ? ansi.yellow : ansi.red, e.action.padEnd(8))}  ${e.alert}${e.variant ? `  (${e.variant})` : ""}`,
    })),
    ...result.markers.map((m) => ({ t: m.t, text: c(ansi.grey, `${"scenario".padEnd(8)}  ${m.label}`) })),
  ].sort((a, b) => a.t - b.t);
  for (const item of timeline) out.push(`  ${seconds(item.t).padStart(8)}  ${item.text}`);

  out.push("");
  const analysis = result.analysis;
  if (analysis) {
    // cli-table3 would colour its head and borders on its own; colours here are ours or none.
    const table = new Table({ head: [...VERDICT_HEAD], style: { head: [], border: [] }, chars: compact });
    for (const row of verdictRows(analysis)) {
      const tone = tonePaint[row.tone];
      const status = tone ? c(tone, row.status) : row.status;
      table.push([
        row.metric,
        row.role,
        row.control,
        row.treatment,
        row.effect,
        row.p,
        row.adjustedP,
        status,
      ]);
    }
    out.push(table.toString(), intervalNote(analysis), srmSummary(analysis), designSummary(analysis));
  } else {
    out.push("No analysis of the event log: see the reasons above.");
  }

  out.push(
    "",
    `Traffic: ${trafficSentence(result.traffic)}`,
    `Router: ${result.routerState} at the end of a ${seconds(result.durationSeconds)} run`,
    `Report: ${c(ansi.cyan, result.files.report)}`,
    `Event log: ${result.files.events}`,
  );
  return out.join("\n");
}
