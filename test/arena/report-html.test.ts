/**
 * The arena's HTML report on real runs (runArena against the deterministic arena server): a
 * passing gate, one failed by a clarity regression whose bound crosses the line, and one with a
 * position-biased judge and no audit labels.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { renderArenaReport } from "../../arena/report-html.ts";
import type { ArenaRun } from "../../arena/run.ts";
import { escapeHtml } from "../../local/report/html.ts";
import { LIMIT_COLOUR, VERDICT_COLOURS } from "../../local/report/palette.ts";
import { AXES, arenaRunFixture, CASES, HOSTILE_ANSWER, HOSTILE_REASON } from "./arena-run-fixture.ts";

const PASS = VERDICT_COLOURS.ship.background;
const FAIL = VERDICT_COLOURS.rollback.background;

let passing: ArenaRun;
let regressing: ArenaRun;
let biased: ArenaRun;
beforeAll(async () => {
  [passing, regressing, biased] = await Promise.all([
    arenaRunFixture({ judge: "content", embeddings: true }),
    arenaRunFixture({ judge: "clarity-drop" }),
    arenaRunFixture({ judge: "position", audit: false }),
  ]);
}, 60_000);

/** The markup of the element with this id, up to its tag name's first closing tag. */
function elementOf(page: string, tag: string, id: string): string {
  const start = page.search(new RegExp(`<${tag}[^>]* id="${id}"`));
  expect(start, `no <${tag}> with id ${id}`).toBeGreaterThanOrEqual(0);
  return page.slice(start, page.indexOf(`</${tag}>`, start));
}

/** The text of the judge-behaviour row with this id. */
function judgeRow(page: string, id: string): string {
  const match = new RegExp(`<tr id="${id}"><th>[^<]*</th><td[^>]*>([^<]*)</td></tr>`).exec(page);
  expect(match, `no judge row ${id}`).not.toBeNull();
  return match![1]!;
}

/** Horizontal strokes drawn inside a plot's clip group: the forest plot's intervals. */
function intervals(svg: string): { x1: number; x2: number; y: number; stroke: string }[] {
  const re =
    /<g clip-path="url\(#[^)]+\)">\s*<path d="M([\d.]+) ([\d.]+)L([\d.]+) \2"[^>]*?stroke="([^"]+)"/g;
  return [...svg.matchAll(re)].map((m) => ({
    x1: Math.min(Number(m[1]), Number(m[3])),
    x2: Math.max(Number(m[1]), Number(m[3])),
    y: Number(m[2]),
    stroke: m[4]!,
  }));
}

/** The bound ticks (echarts' rect symbol) from top to bottom: where each sits and its colour. */
function ticks(svg: string): { x: number; y: number; fill: string }[] {
  const re =
    /<path d="M-1 -1l2 0l0 2l-2 0Z" transform="matrix\([\d.]+,0,0,[\d.]+,([\d.]+),([\d.]+)\)" fill="([^"]+)"/g;
  return [...svg.matchAll(re)]
    .map((m) => ({ x: Number(m[1]), y: Number(m[2]), fill: m[3]! }))
    .sort((a, b) => a.y - b.y);
}

/** Vertical threshold lines: x and the y range they span. */
function thresholds(svg: string): { x: number; top: number; bottom: number }[] {
  const re = new RegExp(`<path d="M([\\d.]+) ([\\d.]+)L\\1 ([\\d.]+)"[^>]*stroke="${LIMIT_COLOUR}"`, "g");
  return [...svg.matchAll(re)].map((m) => ({
    x: Number(m[1]),
    top: Math.min(Number(m[2]), Number(m[3])),
    bottom: Math.max(Number(m[2]), Number(m[3])),
  }));
}

describe("renderArenaReport", () => {
  it("shows a big PASSED badge on a passing gate and FAILED with the failing check on a failed one", () => {
    const good = renderArenaReport(passing);
    expect(good).toContain('<div class="badge v-passed">PASSED</div>');
    expect(good).toContain(`.badge.v-passed{background:${PASS}}`);
    expect(good).toContain("every check passed on 30 golden cases");
    const bad = renderArenaReport(regressing);
    expect(bad).toContain('<div class="badge v-failed">FAILED</div>');
    expect(bad).toContain(`.badge.v-failed{background:${FAIL}}`);
    const reasons = [
      ...(/<ul class="reasons">(.*?)<\/ul>/.exec(bad)?.[1] ?? "").matchAll(/<li>(.*?)<\/li>/g),
    ];
    expect(reasons.map((m) => m[1])).toEqual(["no clarity regression: lower bound -0.326, needs ≥ −0.25"]);
    expect(bad).toMatch(/<title>FAILED: offline gate of support-bot-policy-prompt/);
  });

  it("names the experiment, the spec, dataset and rubric hashes, the judge and the date", () => {
    const page = renderArenaReport(passing);
    const g = passing.gateFile;
    expect(page).toContain(`<code>${g.experiment}</code>`);
    for (const hash of [g.specHash, g.datasetHash, g.rubricHash])
      expect(page).toContain(`title="${hash}">${hash.slice(0, 12)}</dd>`);
    for (const [label, value] of <[string, string][]>[
      ["judge", g.judge.model],
      ["judge endpoint", g.judge.endpoint],
      ["temperature", "0"],
      ["seed", "7"],
      ["prompt version", g.judge.promptVersion],
      ["date", g.createdAt],
    ])
      expect(page).toContain(`<dt>${label}</dt><dd>${escapeHtml(value)}</dd>`);
  });

  it("lists every check with its result, value, threshold and detail", () => {
    const page = renderArenaReport(regressing);
    const rows = [...page.matchAll(/<tr class="check">(.*?)<\/tr>/g)].map((m) => m[1]!);
    expect(rows).toHaveLength(regressing.decision.checks.length);
    regressing.decision.checks.forEach((check, i) => {
      const cells = [...rows[i]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]!);
      expect(cells).toEqual([
        `<strong>${escapeHtml(check.name)}</strong>`,
        check.passed ? "pass" : "FAIL",
        escapeHtml(check.value),
        escapeHtml(check.threshold),
        escapeHtml(check.detail),
      ]);
    });
    expect(rows.filter((r) => r.includes('class="bad">FAIL'))).toHaveLength(1);
  });

  it("marks the bound of the win rate and of every axis in its check's colour, with intervals and names", () => {
    const svg = elementOf(renderArenaReport(regressing), "figure", "forest-plot");
    expect(svg).toMatch(/<svg [^>]*viewBox/);
    // Rows top to bottom: win rate, then the axes in rubric order.
    expect(ticks(svg).map((t) => t.fill)).toEqual([PASS, FAIL, PASS, PASS]);
    for (const name of ["win rate", ...AXES]) expect(svg).toContain(`>${name}</text>`);
    // Accuracy scored 4 everywhere: its interval is the point [0, 0], drawn as a tick and a dot only.
    expect(intervals(svg).map((i) => i.stroke)).toEqual([PASS, FAIL, PASS]);
    expect(svg).toContain(">0.900, bound 0.824</text>");
    expect(svg).toContain(">−0.200, bound −0.326</text>");
    expect(svg).toContain(">needs &gt; 0.5</text>");
    expect(svg).toContain(">needs ≥ −0.25</text>");
  });

  it.each([
    ["passing", () => passing],
    ["clarity-regressing", () => regressing],
    ["position-biased", () => biased],
  ])("puts each bound of the %s run on its check's side of the threshold line", (_name, runOf) => {
    const run = runOf();
    const svg = elementOf(renderArenaReport(run), "figure", "forest-plot");
    const lines = thresholds(svg);
    expect(lines).toHaveLength(2);
    const check = (name: string) => run.decision.checks.find((c) => c.name === name)!.passed;
    const passed = [check("win rate"), ...AXES.map((axis) => check(`no ${axis} regression`))];
    const marks = ticks(svg);
    expect(marks).toHaveLength(passed.length);
    for (const [i, tick] of marks.entries()) {
      const line = lines.find((l) => l.top <= tick.y && tick.y <= l.bottom);
      expect(line, `no threshold line beside row ${i}`).toBeDefined();
      expect(tick.fill).toBe(passed[i] ? PASS : FAIL);
      // A bound exactly on the line fails the win rate (it must lie strictly above), so compare loosely.
      if (passed[i]) expect(tick.x).toBeGreaterThanOrEqual(line!.x - 0.5);
      else expect(tick.x).toBeLessThanOrEqual(line!.x + 0.5);
    }
  });

  it("draws the clarity bound that fails clearly left of its line", () => {
    const svg = elementOf(renderArenaReport(regressing), "figure", "forest-plot");
    const [, clarity] = ticks(svg);
    const line = thresholds(svg).find((l) => l.top <= clarity!.y && clarity!.y <= l.bottom)!;
    expect(clarity!.x).toBeLessThan(line.x - 10);
  });

  it("reports the judge's behaviour: position inconsistency, verbosity, agreement with κ and its interval, similarity", () => {
    const good = renderArenaReport(passing);
    const r = passing.decision.results;
    expect(judgeRow(good, "position-inconsistency")).toMatch(/^0 of 30 pairs \(0\.0 %\)/);
    expect(judgeRow(good, "verbosity")).toMatch(
      new RegExp(`^Spearman ρ ${r.verbosity!.rho.toFixed(3)} \\(p .+, 30 cases\\)`),
    );
    expect(judgeRow(good, "agreement")).toBe(
      `Cohen&#39;s κ 0.571 [${r.agreement!.ci[0].toFixed(3)}, ${r.agreement!.ci[1].toFixed(3)}] (95 %), raw agreement 85.0 %, n 20 audited cases`,
    );
    expect(judgeRow(good, "similarity")).toBe(
      `cosine to the reference: control ${r.similarity.control!.toFixed(3)}, treatment ${r.similarity.treatment!.toFixed(3)}`,
    );

    const bad = renderArenaReport(biased);
    expect(judgeRow(bad, "position-inconsistency")).toMatch(/^30 of 30 pairs \(100\.0 %\)/);
    // Every case a tie: the per-case score is constant, so there is nothing to correlate.
    expect(judgeRow(bad, "verbosity")).toMatch(/^not measurable/);
    expect(judgeRow(bad, "agreement")).toBe("unknown: the run had no audit labels");
    expect(judgeRow(bad, "similarity")).toBe("not measured (no embeddings configured)");
  });

  it.each([
    ["absent", undefined],
    ["NaN", { n: 30, rho: Number.NaN, pValue: Number.NaN }],
  ])("says verbosity bias is not measurable when ρ is %s", (_name, verbosity) => {
    const { verbosity: _dropped, ...results } = passing.decision.results;
    const run: ArenaRun = {
      ...passing,
      decision: { ...passing.decision, results: { ...results, ...(verbosity ? { verbosity } : {}) } },
    };
    const page = renderArenaReport(run);
    expect(judgeRow(page, "verbosity")).toMatch(/^not measurable/);
    expect(page).not.toContain("NaN");
  });

  it("has one row per case with its verdict, both orders, rubric scores, Level-1 failures and lengths", () => {
    const page = renderArenaReport(regressing);
    const rows = [...page.matchAll(/<tr class="case" id="case-([^"]+)">(.*?)<\/tr>/g)];
    expect(rows.map((m) => m[1])).toEqual(regressing.cases.map((c) => c.id));
    expect(rows).toHaveLength(CASES);
    expect(page.match(/<details>/g)).toHaveLength(CASES);
    const row = (id: string) => rows.find((m) => m[1] === id)![2]!;
    expect(row("c04")).toMatch(
      /<td class="good">treatment<\/td><td class="">yes<\/td><td class="good">treatment<\/td><td class="good">treatment<\/td><td class="num bad">4 → 3<\/td><td class="num ">4 → 4<\/td><td class="num good">2 → 5<\/td>/,
    );
    expect(row("c02")).toContain(escapeHtml('control: contains "policy" (not found in the answer)'));
    expect(row("c30")).toMatch(/<td class="neutral">tie<\/td>.*<td class="num">29 \/ 29<\/td>$/);
    const biasedRow = [
      ...renderArenaReport(biased).matchAll(/<tr class="case" id="case-c05">(.*?)<\/tr>/g),
    ][0]![1]!;
    expect(biasedRow).toMatch(
      /<td class="neutral">tie<\/td><td class="alarm">no<\/td><td class="bad">control<\/td><td class="good">treatment<\/td>/,
    );
  });

  it("escapes hostile answers, questions and raw judge outputs inside the collapsible details", () => {
    const page = renderArenaReport(passing);
    expect(page).not.toContain(HOSTILE_ANSWER);
    expect(page).not.toMatch(/<(script|img|b>)/i);
    expect(page).toContain(escapeHtml(HOSTILE_ANSWER));
    expect(page).toContain(escapeHtml("Question 3: where is my order? <b>urgent</b>"));
    const raws = passing.pairwise.flatMap((p) => p.orders.map((o) => o.raw));
    expect(raws.every((raw) => raw.includes("<img"))).toBe(true);
    for (const raw of raws) expect(page).toContain(`<pre>${escapeHtml(raw)}</pre>`);
    expect(page).toContain(escapeHtml(JSON.stringify(HOSTILE_REASON)));
  });

  it("is self-contained: no script, no external resource", () => {
    for (const run of [passing, regressing, biased]) {
      const page = renderArenaReport(run);
      expect(page.startsWith("<!doctype html>")).toBe(true);
      expect(page).not.toMatch(/<script/i);
      expect(page).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
      expect(page).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
      expect(page).not.toMatch(/@import|<link\b|<img\b|<iframe\b/i);
    }
  });
});
