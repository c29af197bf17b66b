import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { InterleavingFeedbackRecord, InterleavingRecord } from "../../router/records.ts";
import { runCli } from "../helpers/cli.ts";
import { json, postJson, RouterHarness, testSpec } from "../helpers/router-harness.ts";
import { tempDir, writeJsonl } from "../helpers/unit-data.ts";

const dir = tempDir("llm-ab-cli-interleaving-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const harness = new RouterHarness();
afterEach(() => harness.cleanup());

const T = "2026-11-27T12:00:00.000Z";

/** Every list its own seed, as the router draws them (shared seeds void the analysis). */
let nextSeed = 1;

function list(queryId: string): InterleavingRecord {
  return {
    type: "interleaving",
    t: T,
    experiment: "search-ranker",
    queryId,
    seed: nextSeed++,
    control: "bm25",
    treatment: "dense",
    items: [
      { id: "x", team: "bm25" },
      { id: "y", team: "dense" },
    ],
  };
}

function feedback(queryId: string, items: string[]): InterleavingFeedbackRecord {
  return { type: "interleaving_feedback", t: T, experiment: "search-ranker", queryId, items };
}

/** `winsB` queries clicked on dense's item, `winsA` on bm25's, `quiet` without clicks. */
function log(name: string, winsB: number, winsA: number, quiet = 0): string {
  const records = [];
  for (let q = 0; q < winsB + winsA + quiet; q++) {
    records.push(list(`q-${q}`));
    if (q < winsB) records.push(feedback(`q-${q}`, ["y"]));
    else if (q < winsB + winsA) records.push(feedback(`q-${q}`, ["x"]));
  }
  return writeJsonl(dir, name, records);
}

describe("llm-ab interleaving analyze", () => {
  it("names the preferred ranker with the interval and the sign test", async () => {
    const run = await runCli("interleaving", "analyze", log("dense.jsonl", 45, 15, 20));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Interleaving "search-ranker": dense (team B) vs bm25 (team A)');
    expect(run.stdout).toContain("Queries: 80 interleaved lists, 60 with feedback, 60 with clicks");
    expect(run.stdout).toContain("Decided: dense won 45, bm25 won 15, ties 0");
    expect(run.stdout).toMatch(
      /Preference for dense: 75\.0 % of decided queries, 95 % CI \[\d+\.\d %, \d+\.\d %\]/,
    );
    expect(run.stdout).toMatch(/Sign test: p 0\.000\d/);
    expect(run.stdout).toMatch(
      /Conclusion: users prefer the dense ranker over bm25 \(sign test p .* < alpha 0\.05\)/,
    );
  });

  it("says when no preference is detectable", async () => {
    const run = await runCli("interleaving", "analyze", log("even.jsonl", 12, 10));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "Conclusion: no detectable preference between dense and bm25 at alpha 0.05 over 22 decided queries",
    );
  });

  it("refuses a conclusion when lists share seeds, and reports skipped retries", async () => {
    const records = [];
    for (let q = 0; q < 40; q++) {
      records.push({ ...list(`q-${q}`), seed: 7 }, feedback(`q-${q}`, ["y"]));
    }
    records.push(list("q-0"));
    const run = await runCli("interleaving", "analyze", writeJsonl(dir, "fixed.jsonl", records));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Skipped: 1 query with several lists under one queryId (2 lists");
    expect(run.stdout).toContain(
      "Conclusion: 39 lists share their seed with another list, so queries were not randomized independently",
    );
  });

  it("uses --alpha for the interval and the decision", async () => {
    // 20 of 28: sign test p ≈ 0.036, preferred at 5 % but not at 1 %.
    const file = log("alpha.jsonl", 20, 8);
    const loose = await runCli("interleaving", "analyze", file);
    expect(loose.stdout).toContain("users prefer the dense ranker");
    const strict = await runCli("interleaving", "analyze", file, "--alpha", "0.01");
    expect(strict.stdout).toContain("99 % CI");
    expect(strict.stdout).toContain("no detectable preference");
  });

  it("prints JSON with the counts, the variant names and null for an undefined preference", async () => {
    const run = await runCli("interleaving", "analyze", log("quiet.jsonl", 0, 0, 5), "--json");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      experiment: "search-ranker",
      control: "bm25",
      treatment: "dense",
      alpha: 0.05,
      lists: 5,
      withFeedback: 0,
      orphanFeedback: 0,
      result: { queries: 5, withClicks: 0, preferenceB: null, ci: [0, 1], signTestP: 1 },
    });
  });

  it("reports feedback for queries the log has no list for", async () => {
    const file = writeJsonl(dir, "orphans.jsonl", [
      list("q-1"),
      feedback("q-1", ["y"]),
      feedback("q-lost", ["y"]),
    ]);
    const run = await runCli("interleaving", "analyze", file);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "Skipped: 1 feedback record for 1 query with no list in this log (e.g. q-lost)",
    );
  });

  it.each([
    {
      name: "a malformed record, by file, line and field",
      args: () => [writeJsonl(dir, "bad.jsonl", [list("q-1"), feedback("q-1", ["nope"])])],
      says: /bad\.jsonl:2: items\[0\]: "nope" is not in the list of query "q-1" \(line 1\)/,
    },
    {
      name: "a missing file",
      args: () => [join(dir, "missing.jsonl")],
      says: /missing\.jsonl: file not found/,
    },
    {
      name: "an alpha outside (0, 1)",
      args: () => [log("ok.jsonl", 1, 1), "--alpha", "2"],
      says: /--alpha <alpha>.*expected a number between 0 and 1, got "2"/,
    },
    {
      name: "a treatment no list compares",
      args: () => [log("ok2.jsonl", 1, 1), "--treatment", "sparse"],
      says: /no list compares "sparse"; the log has dense vs bm25/,
    },
  ])("exits 1 on $name", async ({ args, says }) => {
    const run = await runCli("interleaving", "analyze", ...args());
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(says);
  });

  it("analyses the event log a router wrote for interleaved queries and their clicks", async () => {
    const up = await harness.upstream({});
    const eventsPath = join(dir, "router-events.jsonl");
    const { ctx, proxyUrl } = await harness.app({ spec: testSpec([up.url]), eventsPath });
    // The user clicks the treatment ranker's first item of every list: every query goes to it.
    for (let q = 0; q < 12; q++) {
      const served = json(
        await postJson(`${proxyUrl}/v1/interleave`, {
          queryId: `q-${q}`,
          control: ["a1", "a2", "a3"],
          treatment: ["b1", "b2", "b3"],
          seed: q + 1,
        }),
      );
      const first = (served.items as { id: string; team: string }[]).find(
        (item) => item.team === "treatment",
      );
      await postJson(`${proxyUrl}/v1/interleave/feedback`, { queryId: `q-${q}`, items: [first?.id] });
    }
    await ctx.records.flush();
    const run = await runCli("interleaving", "analyze", eventsPath, "--json");
    expect(run.stderr).toBe("");
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      experiment: "support-bot-policy-prompt",
      control: "control",
      treatment: "treatment",
      lists: 12,
      withFeedback: 12,
      result: { winsB: 12, winsA: 0, ties: 0, preferenceB: 1 },
    });
    expect(report.result.signTestP).toBeLessThan(0.001);
  });
});
