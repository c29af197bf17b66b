/**
 * The offline gate end to end against a local deterministic candidate/judge server where the
 * right answers are known: generation through the spec's variants, Level 1, rubric and pairwise
 * judging in both orders, the statistics, gate.json, the cache, and the Pulumi stack refusing a
 * failing gate.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { readGateFile } from "../../arena/gate-file.ts";
import { JudgeOutputError } from "../../arena/judges.ts";
import { runArena } from "../../arena/run.ts";
import { renderStackObjects } from "../../cli/render.ts";
import {
  type ArenaServer,
  lastUserText,
  type RequestBody,
  startArenaServer,
  tagged,
} from "../helpers/arena-server.ts";
import { runCli } from "../helpers/cli.ts";

const CASES = 30;
/** The treatment cites the policy on cases 1–24 and answers like control on 25–30. */
const CITES = 24;
const id = (i: number) => `c${String(i).padStart(2, "0")}`;

const POLICY_PROMPT = "cite the relevant return or shipping policy";

function candidate(body: RequestBody): string {
  const messages = body.messages as { role: string; content: string }[];
  const treatment = messages.some((m) => m.role === "system" && m.content.includes(POLICY_PROMPT));
  const n = Number(/Question (\d+)/.exec(lastUserText(body))?.[1]);
  return treatment && n <= CITES
    ? `Per our return policy (section ${n}), your order qualifies: here is what happens next.`
    : "We will look into your order.";
}

/** A judge that prefers the answer citing a policy, and scores citation 5 or 2. */
function contentJudge(body: RequestBody): string {
  const text = lastUserText(body);
  const a = tagged(text, "answer_a");
  const b = tagged(text, "answer_b");
  if (a !== undefined && b !== undefined) {
    const pa = a.includes("policy");
    const pb = b.includes("policy");
    const preferred = pa === pb ? "tie" : pa ? "A" : "B";
    return JSON.stringify({ preferred, reason: "cites the policy" });
  }
  const answer = tagged(text, "answer") ?? "";
  const citation = answer.includes("policy") ? 5 : 2;
  return JSON.stringify({
    scores: { clarity: 4, accuracy: 4, policy_citation: citation },
    reason: "scripted",
  });
}

/** The same scores, but always the answer shown first. */
function positionJudge(body: RequestBody): string {
  const text = lastUserText(body);
  if (tagged(text, "answer_a") !== undefined) return JSON.stringify({ preferred: "A", reason: "first" });
  return contentJudge(body);
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "llm-ab-arena-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let server: ArenaServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/**
 * A project directory: the prompt-duel spec with a required gate, 30 golden cases, a rubric, an
 * audit file, and an arena config pointing at `url`.
 */
async function project(name: string, url: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const spec = parse(await readFile("examples/support-bot-policy-prompt.yaml", "utf8")) as Record<
    string,
    unknown
  >;
  spec.gate = { required: true, minWinRateLowerBound: 0.5, maxAxisRegression: 0.25, minJudgeAgreement: 0.5 };
  await writeFile(join(dir, "spec.yaml"), stringify(spec));
  const cases = Array.from({ length: CASES }, (_, k) => {
    const n = k + 1;
    return JSON.stringify({
      id: id(n),
      messages: [{ role: "user", content: `Question ${n}: where is my order?` }],
      context: "Return policy: unworn items within 30 days.",
      reference: "Per our return policy, your order qualifies.",
      tags: n === 1 ? ["critical"] : [],
      checks: n === 1 ? [{ kind: "contains", text: "order" }] : [],
    });
  });
  await writeFile(join(dir, "golden.jsonl"), `${cases.join("\n")}\n`);
  await writeFile(
    join(dir, "rubric.yaml"),
    stringify({
      name: "support",
      axes: ["clarity", "accuracy", "policy_citation"].map((axis) => ({
        name: axis,
        description: `${axis} of the answer`,
        anchors: { "1": "poor", "3": "fair", "5": "excellent" },
      })),
    }),
  );
  // Audited cases c09–c28: the judge says treatment on c09–c24 and tie on c25–c28. People agree
  // except on c09 and c10 (tie) and c25 (treatment): a 2 × 3 table [[14, 0, 2], [1, 0, 3]].
  const audit = Array.from({ length: 20 }, (_, k) => {
    const n = k + 9;
    const preferred = n === 9 || n === 10 ? "tie" : n === 25 ? "treatment" : n <= CITES ? "treatment" : "tie";
    return JSON.stringify({ caseId: id(n), preferred });
  });
  await writeFile(join(dir, "audit.jsonl"), `${audit.join("\n")}\n`);
  await writeFile(
    join(dir, "arena.yaml"),
    stringify({
      spec: "spec.yaml",
      dataset: "golden.jsonl",
      rubric: "rubric.yaml",
      audit: "audit.jsonl",
      endpoints: { "chat-8b": url },
      judge: { url, model: "judge" },
      cache: "cache",
      concurrency: 8,
    }),
  );
  return dir;
}

describe("llm-ab arena run", () => {
  it("a treatment better on scripted cases wins with the expected win rate, and the gate passes", async () => {
    server = await startArenaServer({ answer: candidate, judge: contentJudge });
    const dir = await project("better", server.url);
    const run = await runArena({ configPath: join(dir, "arena.yaml"), outDir: join(dir, "out") });
    const { results } = run.decision;
    expect([results.winRate.wins, results.winRate.losses, results.winRate.ties]).toEqual([
      CITES,
      0,
      CASES - CITES,
    ]);
    expect(results.winRate.rate).toBeCloseTo((CITES + (CASES - CITES) / 2) / CASES, 12);
    expect(results.signTest.pValue).toBeCloseTo(2 * 0.5 ** CITES, 15);
    expect(results.positionInconsistency.inconsistent).toBe(0);
    const citation = results.axes.find((a) => a.axis === "policy_citation");
    expect(citation?.difference.meanDiff).toBeCloseTo((CITES * 3) / CASES, 12);
    // κ by hand: p_o = 17/20, p_e = (16·15 + 4·5)/400 = 0.65, κ = (0.85 − 0.65)/(1 − 0.65) = 4/7.
    expect(results.agreement?.kappa).toBeCloseTo(4 / 7, 12);
    expect(results.agreement?.raw).toBeCloseTo(0.85, 12);
    expect(run.decision.passed).toBe(true);

    const gate = await readGateFile(run.files.gate);
    expect(gate.passed).toBe(true);
    expect(await readFile(run.files.report, "utf8")).toContain("PASSED");
    expect(gate.judge).toMatchObject({ model: "judge", temperature: 0, seed: 7 });
    // Every candidate call used the spec's variants with deterministic decoding.
    const candidates = server.calls().filter((c) => c.body.model !== "judge");
    expect(candidates).toHaveLength(2 * CASES);
    for (const call of candidates) expect(call.body).toMatchObject({ temperature: 0, seed: 7 });
  });

  it("a rerun with the cache makes no calls", async () => {
    server = await startArenaServer({ answer: candidate, judge: contentJudge });
    const dir = await project("rerun", server.url);
    await runArena({ configPath: join(dir, "arena.yaml"), outDir: join(dir, "out") });
    const first = server.calls().length;
    // Candidates, rubric scores and pairwise orders: 2 each per case. On the 6 cases where both
    // arms answer alike, the two rubric requests are one request, and so are the two orders.
    expect(first).toBe(6 * CASES - 2 * (CASES - CITES));
    const again = await runArena({ configPath: join(dir, "arena.yaml"), outDir: join(dir, "out") });
    expect(server.calls().length).toBe(first);
    expect(again.calls.made).toBe(0);
    expect(again.decision.checks).toEqual((await readGateFile(join(dir, "out", "gate.json"))).checks);
  });

  it("a judge that prefers the first position is caught by the swap: ties, position-inconsistent, gate failed", async () => {
    server = await startArenaServer({ answer: candidate, judge: positionJudge });
    const dir = await project("position", server.url);
    const run = await runArena({ configPath: join(dir, "arena.yaml"), outDir: join(dir, "out") });
    const { results } = run.decision;
    expect(results.winRate.ties).toBe(CASES);
    expect(results.positionInconsistency).toEqual({ pairs: CASES, inconsistent: CASES, rate: 1 });
    for (const pair of run.pairwise)
      expect(pair.orders.map((o) => o.preferred)).toEqual(["control", "treatment"]);
    expect(run.decision.passed).toBe(false);
    expect(run.decision.checks.find((c) => c.name === "win rate")?.passed).toBe(false);
  });

  it("a failing gate blocks the stack's preview with a clear message", async () => {
    server = await startArenaServer({ answer: candidate, judge: positionJudge });
    const dir = await project("blocked", server.url);
    await runArena({ configPath: join(dir, "arena.yaml"), outDir: join(dir, "out") });
    await mkdir(join(dir, "stacks"), { recursive: true });
    await writeFile(
      join(dir, "stacks", "Pulumi.t.yaml"),
      stringify({ config: { "llm-ab:spec": "spec.yaml", "llm-ab:gateFile": "out/gate.json" } }),
    );
    await expect(renderStackObjects("t", dir)).rejects.toThrow(
      /gateFile: out\/gate\.json: the offline gate failed for this spec: win rate \(lower bound 0\.356, needs > 0\.5\)/,
    );
  });

  it("an unparseable judge verdict is an error with the raw text, never a silent tie", async () => {
    server = await startArenaServer({ answer: candidate, judge: () => "I think A is better." });
    const dir = await project("garbage", server.url);
    const failure = await runArena({ configPath: join(dir, "arena.yaml"), outDir: join(dir, "out") }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(JudgeOutputError);
    expect((failure as Error).message).toContain("I think A is better.");
  });

  it("refuses an endpoints key that names no deployment of the spec, before any call", async () => {
    server = await startArenaServer({ answer: candidate, judge: contentJudge });
    const dir = await project("typo", server.url);
    const config = parse(await readFile(join(dir, "arena.yaml"), "utf8")) as Record<string, unknown>;
    await writeFile(join(dir, "arena.yaml"), stringify({ ...config, endpoints: { chat8b: server.url } }));
    await expect(runArena({ configPath: join(dir, "arena.yaml"), outDir: join(dir, "out") })).rejects.toThrow(
      'endpoints.chat8b: the spec has no deployment "chat8b" (it has: chat-8b)',
    );
    expect(server.calls()).toHaveLength(0);
  });

  it("exits 0 when the gate passes and 3 when it fails, printing the checks", async () => {
    server = await startArenaServer({ answer: candidate, judge: contentJudge });
    const good = await project("cli-good", server.url);
    const passed = await runCli(
      "arena",
      "run",
      join(good, "arena.yaml"),
      "--out",
      join(good, "out"),
      "--no-progress",
    );
    expect(passed.code).toBe(0);
    expect(passed.stdout).toContain("GATE PASSED");
    expect(passed.stdout).toMatch(/judge agrees with people .*pass/);
    const check = await runCli(
      "arena",
      "check",
      join(good, "out", "gate.json"),
      "--spec",
      join(good, "spec.yaml"),
    );
    expect(check.code).toBe(0);
    await server.stop();

    server = await startArenaServer({ answer: candidate, judge: positionJudge });
    const bad = await project("cli-bad", server.url);
    const failed = await runCli(
      "arena",
      "run",
      join(bad, "arena.yaml"),
      "--out",
      join(bad, "out"),
      "--no-progress",
    );
    expect(failed.code).toBe(3);
    expect(failed.stdout).toContain("GATE FAILED");
    const refused = await runCli(
      "arena",
      "check",
      join(bad, "out", "gate.json"),
      "--spec",
      join(bad, "spec.yaml"),
    );
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("the offline gate failed for this spec");
  });
});
