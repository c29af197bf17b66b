/**
 * The demo's HTML report: one self-contained file (inline CSS, inline SVG charts, no script, no
 * external font or image) that opens anywhere, offline, and reads at a glance: the verdict as a
 * coloured badge with its reasons, then the charts on one time axis with the guardrail events
 * marked, then the tables behind them. Every string from a file (scenario story, alert names)
 * is escaped before it reaches the page.
 */
import type { AnalysisReport } from "../../analysis/analyze.ts";
import type { DemoResult } from "../run-result.ts";
import { type RenderedChart, renderCharts } from "./charts.ts";
import { count, percent, seconds } from "./format.ts";
import { EVENT_COLOURS, SCENARIO_MARKER_COLOUR, VERDICT_COLOURS, variantColours } from "./palette.ts";
import { designSummary, intervalNote, srmSummary, VERDICT_HEAD, verdictRows } from "./verdict-table.ts";

const entities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text made safe for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => entities[ch]!);
}

const e = escapeHtml;

function styles(): string {
  const verdicts = Object.entries(VERDICT_COLOURS)
    .map(
      ([verdict, c]) =>
        `.badge.v-${verdict.replace(/ /g, "-")}{background:${c.background};color:${c.text}}` +
        `.verdict.v-${verdict.replace(/ /g, "-")}{border-color:${c.background}}`,
    )
    .join("\n");
  return `
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1f2328;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 20px 48px}
.kicker{margin:0;color:#57606a;font-size:13px;letter-spacing:.02em}
h1{margin:4px 0 6px;font-size:28px;line-height:1.2}
h2{margin:0 0 4px;font-size:18px}
.story{margin:0 0 16px;color:#3d444d;white-space:pre-line;max-width:80ch}
.verdict{display:flex;gap:20px;align-items:flex-start;background:#fff;border:1px solid;border-left-width:8px;border-radius:8px;padding:16px 20px}
.badge{flex:none;font-size:30px;font-weight:800;letter-spacing:.06em;text-transform:uppercase;padding:10px 22px;border-radius:8px}
.reasons{margin:0;padding-left:18px}
.facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:12px 0 0;color:#3d444d;font-size:14px}
.facts div{display:flex;gap:6px}.facts dt{color:#57606a}.facts dd{margin:0;font-weight:600}
section{margin-top:28px}
.card{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:14px 16px;margin:14px 0 0}
figure{margin:14px 0 0;background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:12px 14px 6px}
figcaption p{margin:0;color:#57606a;font-size:13px}
figure svg{display:block;width:100%;height:auto;margin-top:6px}
.key{display:flex;flex-wrap:wrap;gap:6px 22px;font-size:13px;color:#3d444d;margin:8px 0 0}
.key span::before{content:"";display:inline-block;width:26px;margin-right:6px;vertical-align:middle;border-top:2px solid var(--c)}
.key .dashed::before{border-top-style:dashed}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e4e8ec;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#57606a}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.good{color:#1b873f;font-weight:700}.bad{color:#c92a2a;font-weight:700}.neutral{color:#57606a}
.alarm{color:#c92a2a;font-weight:700}
table.totals{width:auto;min-width:420px;margin-top:10px}
.notes{margin:8px 0 0;padding-left:18px;color:#3d444d;font-size:13px}
.muted{color:#57606a}
footer{margin-top:28px;color:#57606a;font-size:13px;word-break:break-all}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
${verdicts}`;
}

function header(result: DemoResult): string {
  const v = result.verdict.replace(/ /g, "-");
  const reasons = result.reasons.map((r) => `<li>${e(r)}</li>`).join("");
  const fact = (label: string, value: string) => `<div><dt>${e(label)}</dt><dd>${e(value)}</dd></div>`;
  return `<header>
<p class="kicker">llm-ab demo · scenario <code>${e(result.scenario.name)}</code> · experiment <code>${e(result.experiment)}</code>: ${e(result.treatment)} vs ${e(result.control)}</p>
<h1>${e(result.scenario.title)}</h1>
<p class="story">${e(result.scenario.story)}</p>
<div class="verdict v-${v}" id="verdict"><div class="badge v-${v}">${e(result.verdict)}</div><ul class="reasons">${reasons}</ul></div>
<dl class="facts">${[
    fact("started", result.startedAt),
    fact("traffic", seconds(result.durationSeconds)),
    fact("requests", count(result.traffic.requests)),
    fact("guardrail events", String(result.events.length)),
    fact("router at the end", result.routerState),
  ].join("")}</dl>
</header>`;
}

function chartKey(result: DemoResult): string {
  const colours = variantColours(result.control, result.treatment);
  const item = (colour: string, label: string, dashed = false) =>
    `<span${dashed ? ' class="dashed"' : ""} style="--c:${colour}">${e(label)}</span>`;
  const actions = [...new Set(result.events.map((ev) => ev.action))];
  return `<p class="key">${[
    ...[...colours].map(([variant, colour]) => item(colour, variant)),
    item("#57606a", "cold replicas", true),
    ...actions.map((a) => item(EVENT_COLOURS[a], `guardrail ${a}`)),
    ...(result.markers.length > 0 ? [item(SCENARIO_MARKER_COLOUR, "scenario change", true)] : []),
  ].join("")}</p>`;
}

function figure(chart: RenderedChart): string {
  return `<figure id="${chart.id}" class="chart"><figcaption><h2>${e(chart.title)}</h2><p>${e(chart.caption)}</p></figcaption>
${chart.svg}
</figure>`;
}

function eventsSection(result: DemoResult): string {
  const rows = result.events
    .map(
      (ev) =>
        `<tr class="event"><td class="num">${e(seconds(ev.t))}</td><td><span style="color:${EVENT_COLOURS[ev.action]};font-weight:700">${e(ev.action)}</span></td><td><code>${e(ev.alert)}</code></td><td>${e(ev.variant ?? "–")}</td></tr>`,
    )
    .join("\n");
  const table =
    result.events.length === 0
      ? `<p class="muted">No guardrail acted during the run.</p>`
      : `<table><thead><tr><th>t</th><th>action</th><th>alert</th><th>variant</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
  const markers =
    result.markers.length === 0
      ? ""
      : `<ul class="notes">${result.markers.map((m) => `<li>${e(seconds(m.t))}: ${e(m.label)} (scenario change)</li>`).join("")}</ul>`;
  return `<section id="events"><h2>Guardrail events</h2><div class="card">${table}${markers}</div></section>`;
}

function analysisNotes(analysis: AnalysisReport): string[] {
  const notes: string[] = [];
  for (const m of analysis.metrics) {
    if (m.chanceToBeatControl !== undefined) {
      notes.push(`${m.name}: chance to beat control ${percent(m.chanceToBeatControl)} (uniform prior)`);
    }
    if (m.note !== undefined && m.status !== "live only") notes.push(`${m.name}: not tested, ${m.note}`);
  }
  // A live-only guardrail's reason is already among the run's reasons.
  for (const g of analysis.guardrails) {
    if (g.status !== "live only") notes.push(`Guardrail ${g.name} (${g.status}): ${g.reason}`);
  }
  for (const s of analysis.segments) notes.push(...s.findings.map((f) => `Segments: ${f}`));
  return notes;
}

function verdictSection(result: DemoResult): string {
  const analysis = result.analysis;
  if (!analysis) {
    const why = result.reasons.map((r) => `<li>${e(r)}</li>`).join("");
    return `<section id="analysis"><h2>Verdict table</h2><div class="card"><p>No analysis of the router's event log could run, so there is no metric table. Why:</p><ul class="notes">${why}</ul></div></section>`;
  }
  const head = VERDICT_HEAD.map((h) => `<th>${e(h)}</th>`).join("");
  const rows = verdictRows(analysis)
    .map(
      (r) =>
        `<tr><td><strong>${e(r.metric)}</strong></td><td>${e(r.role)}</td><td class="num">${e(r.control)}</td><td class="num">${e(r.treatment)}</td><td class="num">${e(r.effect)}</td><td class="num">${e(r.p)}</td><td class="num">${e(r.adjustedP)}</td><td class="${r.tone}">${e(r.status)}</td></tr>`,
    )
    .join("\n");
  const srm = `<p class="${analysis.srm.alarm ? "alarm" : ""}" id="srm">${e(srmSummary(analysis))}</p>`;
  const notes = analysisNotes(analysis)
    .map((n) => `<li>${e(n)}</li>`)
    .join("");
  return `<section id="analysis"><h2>Verdict table</h2><div class="card">
<p class="muted">The analysis of the router's event log says <strong>${e(analysis.verdict)}</strong>. ${e(intervalNote(analysis))}</p>
<table><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table>
${srm}<p id="design">${e(designSummary(analysis))}</p>
${notes ? `<ul class="notes">${notes}</ul>` : ""}</div></section>`;
}

function trafficSection(result: DemoResult): string {
  const t = result.traffic;
  const share = (n: number) => (t.requests > 0 ? percent(n / t.requests) : "–");
  const rows = Object.entries(t.requestsByVariant)
    .map(
      ([variant, n]) =>
        `<tr><td>${e(variant)}</td><td class="num">${count(n)}</td><td class="num">${share(n)}</td></tr>`,
    )
    .join("\n");
  const line = (label: string, value: string) =>
    `<tr><th>${e(label)}</th><td class="num">${e(value)}</td></tr>`;
  return `<section id="traffic"><h2>Traffic</h2><div class="card">
<table><thead><tr><th>served variant</th><th>requests</th><th>share</th></tr></thead><tbody>
${rows}
</tbody></table>
<table class="totals"><tbody>
${[
  line("conversations", count(t.conversations)),
  line("requests", count(t.requests)),
  line("failed requests", `${count(t.failedRequests)} (${share(t.failedRequests)})`),
  line("outcomes sent", count(t.outcomesSent)),
  line("outcomes refused", count(t.outcomesRefused)),
  line("router state at the end", result.routerState),
].join("\n")}
</tbody></table></div></section>`;
}

/** The whole report as one self-contained HTML document. */
export function renderReportHtml(result: DemoResult): string {
  const charts = renderCharts(result);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`${result.verdict.toUpperCase()}: ${result.scenario.title} (llm-ab demo)`)}</title>
<style>${styles()}</style>
</head>
<body>
<main>
${header(result)}
<section id="charts"><h2>Over time</h2>${chartKey(result)}
${charts.map(figure).join("\n")}
</section>
${eventsSection(result)}
${verdictSection(result)}
${trafficSection(result)}
<footer>Report <code>${e(result.files.report)}</code> · router event log <code>${e(result.files.events)}</code></footer>
</main>
</body>
</html>
`;
}
