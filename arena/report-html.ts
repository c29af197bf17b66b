/**
 * The arena run as one self-contained HTML page (inline CSS, inline SVG, no script, no external
 * resource), in the demo report's style: the gate's decision as a badge with what failed, the
 * checks, a forest plot that shows which bound crosses which line, how the judge behaved, and
 * every case with both answers and the judge's raw outputs for audit. Answers and judge outputs
 * are model text, so every string is escaped before it reaches the page.
 */
import { percent, pValue } from "../local/report/format.ts";
import { escapeHtml } from "../local/report/html.ts";
import { VERDICT_COLOURS } from "../local/report/palette.ts";
import type { GateCheck } from "./gate-file.ts";
import { forestPlotSvg } from "./report-forest.ts";
import type { ArenaRun } from "./run.ts";
import type { Arm, Generation, Level1Result, PairwiseJudgement, RubricScore } from "./types.ts";

const e = escapeHtml;
const PASS = VERDICT_COLOURS.ship.background;
const FAIL = VERDICT_COLOURS.rollback.background;
const _UNKNOWN = VERDICT_COLOURS.inconclusive.background;
const fixed = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
const short = (hash: string) => hash.slice(0, 12);

const STYLES = `
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1f2328;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 20px 48px}
.kicker{margin:0;color:#57606a;font-size:13px;letter-spacing:.02em}
h1{margin:4px 0 12px;font-size:28px;line-height:1.2}
h2{margin:0 0 4px;font-size:18px}
h3{margin:10px 0 4px;font-size:14px}
.verdict{display:flex;gap:20px;align-items:flex-start;background:#fff;border:1px solid;border-left-width:8px;border-radius:8px;padding:16px 20px}
.badge{flex:none;font-size:30px;font-weight:800;letter-spacing:.06em;text-transform:uppercase;padding:10px 22px;border-radius:8px;color:#fff}
.v-passed{border-color:${PASS}}.badge.v-passed{background:${PASS}}
.v-failed{border-color:${FAIL}}.badge.v-failed{background:${FAIL}}
.reasons{margin:0;padding-left:18px}
.facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:12px 0 0;color:#3d444d;font-size:14px}
.facts div{display:flex;gap:6px}.facts dt{color:#57606a}.facts dd{margin:0;font-weight:600}
section{margin-top:28px}
.card{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:14px 16px;margin:14px 0 0;overflow-x:auto}
figure{margin:14px 0 0;background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:12px 14px 6px}
figcaption p{margin:0;color:#57606a;font-size:13px}
figure svg{display:block;width:100%;height:auto;margin-top:6px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e4e8ec;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#57606a}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
tr.case td{border-bottom:none}
.good{color:${PASS};font-weight:700}.bad{color:${FAIL};font-weight:700}.neutral{color:#57606a}
.alarm{color:${FAIL};font-weight:700}
.muted{color:#57606a}
ul.plain{margin:0;padding-left:16px}
details summary{cursor:pointer;color:#57606a;font-size:13px}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}
pre{margin:0;padding:8px 10px;background:#f6f8fa;border:1px solid #e4e8ec;border-radius:6px;white-space:pre-wrap;word-break:break-word;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
footer{margin-top:28px;color:#57606a;font-size:13px;word-break:break-all}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}`;

function header(run: ArenaRun, variants: Record<Arm, string>): string {
  const { gateFile, decision } = run;
  const v = decision.passed ? "passed" : "failed";
  const failed = decision.checks.filter((c) => !c.passed);
  const reasons =
    failed.length === 0
      ? [`every check passed on ${run.cases.length} golden cases`]
      : failed.map((c) => `${c.name}: ${c.value}, needs ${c.threshold}`);
  const fact = (label: string, value: string, title?: string) =>
    `<div><dt>${e(label)}</dt><dd${title === undefined ? "" : ` title="${e(title)}"`}>${e(value)}</dd></div>`;
  const j = gateFile.judge;
  return `<header>
<p class="kicker">llm-ab arena · experiment <code>${e(gateFile.experiment)}</code>: ${e(variants.treatment)} (treatment) vs ${e(variants.control)} (control)</p>
<h1>Offline gate of ${e(gateFile.experiment)}</h1>
<div class="verdict v-${v}" id="verdict"><div class="badge v-${v}">${v.toUpperCase()}</div><ul class="reasons">${reasons.map((r) => `<li>${e(r)}</li>`).join("")}</ul></div>
<dl class="facts">${[
    fact("date", gateFile.createdAt),
    fact("spec", short(gateFile.specHash), gateFile.specHash),
    fact("dataset", short(gateFile.datasetHash), gateFile.datasetHash),
    fact("rubric", short(gateFile.rubricHash), gateFile.rubricHash),
    fact("judge", j.model),
    fact("judge endpoint", j.endpoint),
    fact("temperature", String(j.temperature)),
    fact("seed", String(j.seed)),
    fact("prompt version", j.promptVersion),
    fact("cases", String(run.cases.length)),
  ].join("")}</dl>
</header>`;
}

function checksSection(checks: readonly GateCheck[]): string {
  const rows = checks
    .map(
      (c) =>
        `<tr class="check"><td><strong>${e(c.name)}</strong></td><td class="${c.passed ? "good" : "bad"}">${c.passed ? "pass" : "FAIL"}</td><td class="num">${e(c.value)}</td><td class="num">${e(c.threshold)}</td><td>${e(c.detail)}</td></tr>`,
    )
    .join("\n");
  return `<section id="checks"><h2>Checks</h2><div class="card"><table><thead><tr><th>check</th><th>result</th><th>value</th><th>needs</th><th>detail</th></tr></thead><tbody>
${rows}
</tbody></table></div></section>`;
}

function judgeSection(run: ArenaRun): string {
  const r = run.decision.results;
  const level = `${Math.round((1 - run.spec.analysis.alpha) * 100)} %`;
  const pi = r.positionInconsistency;
  const v = r.verbosity;
  const verbosity =
    v === undefined || !Number.isFinite(v.rho)
      ? "not measurable (fewer than 3 cases, or no variation in the verdicts or the lengths)"
      : `Spearman ρ ${fixed(v.rho)} (p ${pValue(v.pValue)}, ${v.n} cases) between the treatment's score and how much longer its answer was${Math.abs(v.rho) >= 0.3 && v.pValue < 0.05 ? ": the judge may be rewarding length" : ""}`;
  const a = r.agreement;
  const agreement =
    a === undefined
      ? run.audit === undefined
        ? "unknown: the run had no audit labels"
        : "unknown: no audit label names a judged case"
      : `Cohen's κ ${fixed(a.kappa)} [${fixed(a.ci[0])}, ${fixed(a.ci[1])}] (${level}), raw agreement ${percent(a.raw)}, n ${a.n} audited cases`;
  const sim = (x: number | null) => (x === null ? "–" : fixed(x));
  const similarity =
    run.similarity.length === 0
      ? "not measured (no embeddings configured)"
      : `cosine to the reference: control ${sim(r.similarity.control)}, treatment ${sim(r.similarity.treatment)}`;
  const row = (id: string, label: string, value: string, cls = "") =>
    `<tr id="${id}"><th>${e(label)}</th><td${cls ? ` class="${cls}"` : ""}>${e(value)}</td></tr>`;
  return `<section id="judge"><h2>Judge behaviour</h2><div class="card"><table><tbody>
${[
  row(
    "position-inconsistency",
    "position inconsistency",
    `${pi.inconsistent} of ${pi.pairs} pairs (${percent(pi.rate)}) changed verdict with the order; counted as ties`,
    pi.inconsistent > 0 ? "alarm" : "",
  ),
  row("verbosity", "verbosity bias", verbosity),
  row("agreement", "judge–human agreement", agreement, a === undefined ? "alarm" : ""),
  row("similarity", "Level-2 similarity", similarity),
  row(
    "sign-test",
    "sign test",
    `${r.signTest.wins} wins, ${r.signTest.losses} losses (ties dropped): p ${pValue(r.signTest.pValue)}`,
  ),
  row(
    "level1",
    "Level-1 failures",
    `control ${r.level1.control.failed}, treatment ${r.level1.treatment.failed}`,
  ),
  row("calls", "calls", `${run.calls.made} made, ${run.calls.cached} from the cache`),
].join("\n")}
</tbody></table></div></section>`;
}

/** Everything a run holds about one case, by arm. */
interface CaseData {
  generation: Partial<Record<Arm, Generation>>;
  score: Partial<Record<Arm, RubricScore>>;
  failures: Level1Result[];
  pairwise?: PairwiseJudgement;
}

function byCase(run: ArenaRun): Map<string, CaseData> {
  const data = new Map<string, CaseData>(
    run.cases.map((c) => [c.id, { generation: {}, score: {}, failures: [] }]),
  );
  for (const g of run.generations) {
    const d = data.get(g.caseId);
    if (d) d.generation[g.arm] = g;
  }
  for (const s of run.rubricScores) {
    const d = data.get(s.caseId);
    if (d) d.score[s.arm] = s;
  }
  for (const l of run.level1) if (!l.passed) data.get(l.caseId)?.failures.push(l);
  for (const p of run.pairwise) {
    const d = data.get(p.caseId);
    if (d) d.pairwise = p;
  }
  return data;
}

const tone = (preferred: Arm | "tie") =>
  preferred === "treatment" ? "good" : preferred === "control" ? "bad" : "neutral";

function casesSection(run: ArenaRun): string {
  const axes = run.rubric.axes.map((a) => a.name);
  const data = byCase(run);
  const rows = run.cases.map((c) => {
    const d = data.get(c.id) as CaseData;
    const p = d.pairwise;
    const order = (first: Arm) => {
      const o = p?.orders.find((x) => x.first === first);
      return o === undefined ? "<td>–</td>" : `<td class="${tone(o.preferred)}">${e(o.preferred)}</td>`;
    };
    const scores = axes.map((axis) => {
      const [ctl, trt] = [d.score.control?.scores[axis], d.score.treatment?.scores[axis]];
      const cls = ctl === undefined || trt === undefined || trt === ctl ? "" : trt > ctl ? "good" : "bad";
      return `<td class="num ${cls}">${ctl ?? "–"} → ${trt ?? "–"}</td>`;
    });
    const failures =
      d.failures.length === 0
        ? `<span class="muted">none</span>`
        : `<ul class="plain">${d.failures.map((f) => `<li>${e(`${f.arm}: ${f.check}${f.detail === undefined ? "" : ` (${f.detail})`}`)}</li>`).join("")}</ul>`;
    const length = (arm: Arm) => d.generation[arm]?.text.length ?? "–";
    const answer = (arm: Arm) =>
      `<div><h3>${e(`${arm} (${d.generation[arm]?.variant ?? "no answer"})`)}</h3><pre>${e(d.generation[arm]?.text ?? "")}</pre></div>`;
    const raws = (p?.orders ?? [])
      .map((o) => `<h3>${e(`judge, ${o.first} shown first: ${o.preferred}`)}</h3><pre>${e(o.raw)}</pre>`)
      .join("");
    const question = c.messages.findLast((m) => m.role === "user")?.content ?? "";
    const columns = 8 + axes.length;
    return `<tr class="case" id="case-${e(c.id)}"><td><code>${e(c.id)}</code></td><td>${e(c.tags.join(", "))}</td><td class="${p ? tone(p.verdict) : ""}">${e(p?.verdict ?? "–")}</td><td class="${p?.consistent === false ? "alarm" : ""}">${p === undefined ? "–" : p.consistent ? "yes" : "no"}</td>${order("control")}${order("treatment")}${scores.join("")}<td>${failures}</td><td class="num">${length("control")} / ${length("treatment")}</td></tr>
<tr class="case-detail"><td colspan="${columns}"><details><summary>question, answers and the judge's raw outputs</summary><h3>question</h3><pre>${e(question)}</pre>${c.reference === undefined ? "" : `<h3>reference</h3><pre>${e(c.reference)}</pre>`}<div class="pair">${answer("control")}${answer("treatment")}</div>${raws}</details></td></tr>`;
  });
  const head = [
    "case",
    "tags",
    "verdict",
    "consistent",
    "control first",
    "treatment first",
    ...axes.map((a) => `${a} (c → t)`),
    "Level-1 failures",
    "chars (c / t)",
  ];
  return `<section id="cases"><h2>Cases</h2><p class="muted">Pairwise verdicts (the preferred arm in each order), rubric scores control → treatment, Level-1 failures and answer lengths; open a case for both answers and the judge's raw outputs.</p><div class="card"><table><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join("")}</tr></thead><tbody>
${rows.join("\n")}
</tbody></table></div></section>`;
}

/** The whole report of an arena run as one self-contained HTML document. */
export function renderArenaReport(run: ArenaRun): string {
  const variantOf = (arm: Arm) => run.generations.find((g) => g.arm === arm)?.variant ?? arm;
  const variants = { control: variantOf("control"), treatment: variantOf("treatment") };
  const verdict = run.decision.passed ? "PASSED" : "FAILED";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`${verdict}: offline gate of ${run.gateFile.experiment} (llm-ab arena)`)}</title>
<style>${STYLES}</style>
</head>
<body>
<main>
${header(run, variants)}
${checksSection(run.decision.checks)}
<section id="forest"><figure id="forest-plot"><figcaption><h2>Where each bound falls</h2><p>Each line is an interval, the dot its estimate and the tick the bound the gate holds to the dashed line: green when its check passed, red when it failed.</p></figcaption>
${forestPlotSvg(run)}
</figure></section>
${judgeSection(run)}
${casesSection(run)}
<footer>Gate file <code>${e(run.files.gate)}</code> · all generations and judgements <code>${e(run.files.results)}</code> · config <code>${e(run.config.path)}</code></footer>
</main>
</body>
</html>
`;
}
